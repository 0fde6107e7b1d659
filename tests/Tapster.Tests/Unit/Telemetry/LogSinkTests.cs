using System.Text;
using System.Text.Json;
using Tapster.Telemetry;

namespace Tapster.Tests.Unit.Telemetry;

public sealed class LogSinkTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task A_stalled_stdout_bounds_what_waits_and_the_dropped_lines_are_counted_afterwards()
    {
        var output = new StalledStream();
        var sink = new LogSink(output, isTerminal: false);
        var line = Encoding.UTF8.GetBytes(new string('x', 1000));

        sink.WriteLine("first"u8);
        await output.FirstWrite.WaitAsync(Timeout); // the writer is now stuck in that write
        const int Lines = 20_000; // 20 MB: more than twice what may wait
        for (var i = 0; i < Lines; i++)
        {
            sink.WriteLine(line);
        }

        output.Release();
        await sink.DisposeAsync();

        var lines = Encoding.UTF8.GetString(output.ToArray()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var kept = lines.Count(l => l.Length == line.Length);
        Assert.InRange(kept, 1, LogSink.MaxPending / line.Length);
        var notice = JsonDocument.Parse(Assert.Single(lines, l => l.StartsWith('{'))).RootElement;
        Assert.Equal("log.dropped", notice.GetProperty("event").GetString());
        Assert.Equal(Lines - kept, notice.GetProperty("dropped").GetInt64());
    }

    [Fact]
    public async Task Stopping_does_not_wait_forever_for_a_stdout_that_takes_nothing()
    {
        var output = new StalledStream();
        var sink = new LogSink(output, isTerminal: false);
        sink.WriteLine("last words"u8);
        await output.FirstWrite.WaitAsync(Timeout);

        // Never released: the deadline (a few seconds) ends the wait, not the reader.
        await sink.DisposeAsync().AsTask().WaitAsync(Timeout);

        output.Release();
    }

    [Fact]
    public async Task Lines_are_written_in_order_and_none_is_dropped_when_stdout_keeps_up()
    {
        var output = new MemoryStream();
        var sink = new LogSink(output, isTerminal: false);
        for (var i = 0; i < 1000; i++)
        {
            sink.WriteLine(Encoding.UTF8.GetBytes(i.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        }

        await sink.DisposeAsync();

        var lines = Encoding.UTF8.GetString(output.ToArray()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(Enumerable.Range(0, 1000).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)), lines);
    }

    /// <summary>Stdout whose reader has stopped: the first write blocks until released.</summary>
    private sealed class StalledStream : MemoryStream
    {
        private readonly TaskCompletionSource _firstWrite = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task FirstWrite => _firstWrite.Task;

        public void Release() => _released.TrySetResult();

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            _firstWrite.TrySetResult();
            await _released.Task.WaitAsync(cancellationToken);
            await base.WriteAsync(buffer, cancellationToken);
        }
    }
}

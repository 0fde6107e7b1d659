using System.Buffers;
using System.Globalization;
using System.Text;

namespace Tapster.Telemetry;

/// <summary>
/// The one stream every log line goes through (access lines, Tapster's own events, the app's output):
/// callers append whole lines under a short lock; a background task writes them to stdout in batches,
/// so a request never waits on the terminal or the pipe. When stdout stops taking lines (a stalled log
/// collector, a paused terminal), at most <see cref="MaxPending"/> bytes wait; further lines are
/// dropped and counted, and a <c>log.dropped</c> line says how many once stdout moves again. Blocking
/// the callers instead would stall every request, and an unbounded queue would end in running out of memory.
/// </summary>
internal sealed class LogSink : IAsyncDisposable
{
    private const int FlushThreshold = 64 * 1024;

    /// <summary>Bytes of lines that may wait for stdout, about 30,000 access lines.</summary>
    internal const int MaxPending = 8 * 1024 * 1024;

    /// <summary>How long a line may wait for company before it is written; nginx's buffered access log waits seconds.</summary>
    private static readonly TimeSpan CoalesceWindow = TimeSpan.FromMilliseconds(5);

    /// <summary>At exit, how long the last lines may take to reach stdout.</summary>
    private static readonly TimeSpan FinalFlushDeadline = TimeSpan.FromSeconds(3);

    private readonly Stream _output;
    private readonly Lock _lock = new();
    private readonly SemaphoreSlim _signal = new(0);
    private readonly Task _writer;
    private ArrayBufferWriter<byte> _pending = new(FlushThreshold);
    private ArrayBufferWriter<byte> _writing = new(FlushThreshold);
    private bool _stopping;
    private long _dropped;

    public LogSink(Stream output, bool isTerminal)
    {
        _output = output;
        IsTerminal = isTerminal;
        _writer = Task.Run(WriteLoopAsync);
    }

    /// <summary>Readable lines for a person at a terminal; JSON lines for everything else.</summary>
    public bool IsTerminal { get; }

    public static LogSink ForStandardOutput() =>
        new(Console.OpenStandardOutput(), !Console.IsOutputRedirected);

    /// <summary>Appends one line; a newline is added.</summary>
    public void WriteLine(ReadOnlySpan<byte> line)
    {
        bool wake;
        lock (_lock)
        {
            if (_pending.WrittenCount + line.Length >= MaxPending)
            {
                _dropped++;
                return; // the writer is awake already: it has lines pending
            }

            wake = _pending.WrittenCount == 0;
            _pending.Write(line);
            _pending.Write("\n"u8);
        }

        if (wake)
        {
            _signal.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        lock (_lock)
        {
            _stopping = true;
        }

        _signal.Release();
        try
        {
            await _writer.WaitAsync(FinalFlushDeadline).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // Stdout takes nothing (a stalled reader, a paused terminal): waiting longer would keep a
            // stopped server from exiting until systemd kills it. The last lines are lost either way.
            return;
        }

        _signal.Dispose();
    }

    private async Task WriteLoopAsync()
    {
        while (true)
        {
            await _signal.WaitAsync().ConfigureAwait(false);
            if (!Volatile.Read(ref _stopping))
            {
                // Let a busy server's lines gather: one wake-up and one write per window, not per line.
                await Task.Delay(CoalesceWindow).ConfigureAwait(false);
            }

            bool stopping;
            long dropped;
            lock (_lock)
            {
                (_pending, _writing) = (_writing, _pending);
                stopping = _stopping;
                dropped = _dropped;
                _dropped = 0;
            }

            if (_writing.WrittenCount > 0)
            {
                try
                {
                    await _output.WriteAsync(_writing.WrittenMemory).ConfigureAwait(false);
                    await _output.FlushAsync().ConfigureAwait(false);
                }
                catch (IOException)
                {
                    // stdout closed (the reader went away): logging must never take the server down.
                }

                _writing.ResetWrittenCount();
            }

            if (dropped > 0)
            {
                // Into the next batch: it is written once stdout has taken this one.
                WriteDropNotice(dropped);
                if (stopping)
                {
                    continue; // the signal WriteLine just gave brings the notice out before the end
                }
            }

            if (stopping)
            {
                return;
            }
        }
    }

    private void WriteDropNotice(long dropped)
    {
        const string Message = "log lines dropped: standard output did not keep up";
        if (IsTerminal)
        {
            WriteLine(Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture,
                $"{DateTime.Now:HH:mm:ss.fff} WARN  {dropped} {Message}")));
            return;
        }

        var json = LineFormatter.BeginJson(out var buffer, "warn", "log.dropped");
        json.WriteNumber("dropped"u8, dropped);
        json.WriteString("message"u8, $"{dropped} {Message}");
        LineFormatter.EndJson(json, this, buffer);
    }
}

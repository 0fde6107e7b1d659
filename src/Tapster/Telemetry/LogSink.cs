using System.Buffers;

namespace Tapster.Telemetry;

/// <summary>
/// The one stream every log line goes through (access lines, Tapster's own events, the app's output):
/// callers append whole lines under a short lock; a background task writes them to stdout in batches,
/// so a request never waits on the terminal or the pipe.
/// </summary>
internal sealed class LogSink : IAsyncDisposable
{
    private const int FlushThreshold = 64 * 1024;

    /// <summary>How long a line may wait for company before it is written; nginx's buffered access log waits seconds.</summary>
    private static readonly TimeSpan CoalesceWindow = TimeSpan.FromMilliseconds(5);

    private readonly Stream _output;
    private readonly Lock _lock = new();
    private readonly SemaphoreSlim _signal = new(0);
    private readonly Task _writer;
    private ArrayBufferWriter<byte> _pending = new(FlushThreshold);
    private ArrayBufferWriter<byte> _writing = new(FlushThreshold);
    private bool _stopping;

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
        await _writer.ConfigureAwait(false);
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
            lock (_lock)
            {
                (_pending, _writing) = (_writing, _pending);
                stopping = _stopping;
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

            if (stopping)
            {
                return;
            }
        }
    }
}

using System.Diagnostics;
using System.Runtime.InteropServices;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Tapster.Edge;

/// <summary>
/// The web server's stop. The first SIGTERM or SIGINT (the host's console lifetime turns it into
/// <c>StopApplication</c>) closes the listeners and gives requests in flight the graceful timeout to
/// finish. A second one during that wait cuts it short: the connections still open are aborted at
/// once, as a second Ctrl-C does in uvicorn and a SIGINT in Gunicorn. Without it, an operator who does
/// not want to wait out a long grace has only SIGKILL, which leaves the workers behind. A request
/// aborted once the grace is over was cut off by Tapster, not left by its client: its access line
/// says 503 (unless its status was sent already) and one warning counts them all.
/// </summary>
internal sealed partial class GracefulStop(TimeSpan grace, ILogger logger)
{
    /// <summary>Stopwatch timestamp at which the grace ends; never, until a stop is asked for.</summary>
    private long _graceEnds = long.MaxValue;
    private int _cutOff;

    /// <summary>
    /// Whether a request whose connection was just aborted was cut off by the stop (the grace is over)
    /// rather than left by its client; counted when it was.
    /// </summary>
    public bool CutOff()
    {
        if (Stopwatch.GetTimestamp() < Interlocked.Read(ref _graceEnds))
        {
            return false;
        }

        Interlocked.Increment(ref _cutOff);
        return true;
    }

    /// <summary>Waits for the stop to be asked for, then stops <paramref name="web"/> gracefully.</summary>
    public async Task RunAsync(WebApplication web)
    {
        var stopAsked = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        // Said when the signal comes, not once the requests in flight are done.
        using (web.Lifetime.ApplicationStopping.Register(() =>
               {
                   Interlocked.Exchange(ref _graceEnds, Stopwatch.GetTimestamp() + (long)(grace.TotalSeconds * Stopwatch.Frequency));
                   LogStopping(logger, grace.TotalSeconds);
                   stopAsked.TrySetResult();
               }))
        {
            await stopAsked.Task.ConfigureAwait(false);
        }

        using var cutShort = new CancellationTokenSource();
        void OnSecondSignal(PosixSignalContext context)
        {
            context.Cancel = true;
            if (!cutShort.IsCancellationRequested)
            {
                Interlocked.Exchange(ref _graceEnds, Stopwatch.GetTimestamp());
                LogCutShort(logger, context.Signal == PosixSignal.SIGINT ? "SIGINT" : "SIGTERM");
                cutShort.Cancel();
            }
        }

        // Registered only now, so the signal that started the stop is not counted as the second.
        using (PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSecondSignal))
        using (PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSecondSignal))
        {
            // The host's own shutdown timeout (the grace) still bounds this; the token only ends it sooner.
            await web.StopAsync(cutShort.Token).ConfigureAwait(false);
        }
    }

    /// <summary>Says how many requests the stop cut off; called once the server is down and they are all logged.</summary>
    public void ReportCutOff()
    {
        if (Volatile.Read(ref _cutOff) is > 0 and var count)
        {
            LogRequestsCutOff(logger, count);
        }
    }

    [LoggerMessage(EventId = 2, EventName = "server.stopping", Level = LogLevel.Information, Message = "Stopping: no new connections; requests in flight get up to {GracefulSeconds}s to finish (signal again to stop at once)")]
    private static partial void LogStopping(ILogger logger, double gracefulSeconds);

    [LoggerMessage(EventId = 4, EventName = "server.stopping_now", Level = LogLevel.Warning, Message = "Second {Signal}: stopping at once; requests still in flight are cut off")]
    private static partial void LogCutShort(ILogger logger, string signal);

    [LoggerMessage(EventId = 6, EventName = "server.requests_cut_off", Level = LogLevel.Warning, Message = "{Count} requests still running when the grace ended were cut off (logged with status 503 where none was sent)")]
    private static partial void LogRequestsCutOff(ILogger logger, int count);
}

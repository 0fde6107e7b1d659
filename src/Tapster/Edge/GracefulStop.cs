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
/// not want to wait out a long grace has only SIGKILL, which leaves the workers behind.
/// </summary>
internal static partial class GracefulStop
{
    /// <summary>Waits for the stop to be asked for, then stops <paramref name="web"/> gracefully.</summary>
    public static async Task RunAsync(WebApplication web, TimeSpan grace, ILogger logger)
    {
        var stopAsked = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        // Said when the signal comes, not once the requests in flight are done.
        using (web.Lifetime.ApplicationStopping.Register(() =>
               {
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
                LogCutShort(logger, context.Signal == PosixSignal.SIGINT ? "SIGINT" : "SIGTERM");
                cutShort.Cancel();
            }
        }

        // Registered only now, so the signal that started the stop is not counted as the second.
        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSecondSignal);
        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSecondSignal);
        // The host's own shutdown timeout (the grace) still bounds this; the token only ends it sooner.
        await web.StopAsync(cutShort.Token).ConfigureAwait(false);
    }

    [LoggerMessage(EventId = 2, EventName = "server.stopping", Level = LogLevel.Information, Message = "Stopping: no new connections; requests in flight get up to {GracefulSeconds}s to finish (signal again to stop at once)")]
    private static partial void LogStopping(ILogger logger, double gracefulSeconds);

    [LoggerMessage(EventId = 4, EventName = "server.stopping_now", Level = LogLevel.Warning, Message = "Second {Signal}: stopping at once; requests still in flight are cut off")]
    private static partial void LogCutShort(ILogger logger, string signal);
}

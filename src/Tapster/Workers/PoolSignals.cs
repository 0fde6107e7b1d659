using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;

namespace Tapster.Workers;

/// <summary>
/// The signals Gunicorn users send, with Gunicorn's meaning where Tapster has one: HUP replaces every
/// worker, TTIN and TTOU add or remove one. USR1 (reopen log files) and USR2 (binary upgrade) are logged
/// and ignored. Left to the runtime's defaults, HUP, USR1 and USR2 would end Tapster on the spot, and
/// TTIN and TTOU would suspend it. TERM and INT belong to the host: a graceful stop.
/// </summary>
internal sealed partial class PoolSignals : IDisposable
{
    private readonly List<PosixSignalRegistration> _registrations;

    /// <param name="reload">For SIGHUP: reads the configuration again and replaces the workers (<see cref="Supervisor.Reload"/>).</param>
    public PoolSignals(Supervisor supervisor, Action reload, ILogger logger)
    {
        // `nohup tapster serve &` then `kill -HUP` after a deploy must reload, as with Gunicorn.
        if (Signals.Unignore(Signals.SigHup))
        {
            LogUnignored(logger);
        }

        _registrations =
        [
            Register(PosixSignal.SIGHUP, reload, logger),
            Register(PosixSignal.SIGTTIN, () => supervisor.Resize(1), logger),
            Register(PosixSignal.SIGTTOU, () => supervisor.Resize(-1), logger),
            Register((PosixSignal)Signals.SigUsr1, () => LogIgnored(logger, "SIGUSR1", "Tapster logs to standard output, so there are no log files to reopen"), logger),
            Register((PosixSignal)Signals.SigUsr2, () => LogIgnored(logger, "SIGUSR2", "there is no binary upgrade in place; SIGHUP replaces the workers"), logger),
        ];
    }

    public void Dispose()
    {
        foreach (var registration in _registrations)
        {
            registration.Dispose();
        }
    }

    /// <summary>
    /// Handlers run on thread-pool threads, where an exception would end the process: a signal that
    /// could not be handled (a reload that hit an unexpected error) is logged, and Tapster serves on.
    /// </summary>
    private static PosixSignalRegistration Register(PosixSignal signal, Action action, ILogger logger) =>
        PosixSignalRegistration.Create(signal, context =>
        {
            context.Cancel = true;
            try
            {
                action();
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                LogFailed(logger, context.Signal.ToString(), e);
            }
        });

    [LoggerMessage(EventId = 137, EventName = "signal.failed", Level = LogLevel.Error, Message = "Handling {Signal} failed; Tapster serves on as before")]
    private static partial void LogFailed(ILogger logger, string signal, Exception exception);

    [LoggerMessage(EventId = 131, EventName = "signal.unignored", Level = LogLevel.Information, Message = "SIGHUP was ignored when Tapster started (nohup): taken back, so SIGHUP replaces the workers")]
    private static partial void LogUnignored(ILogger logger);

    [LoggerMessage(EventId = 130, EventName = "signal.ignored", Level = LogLevel.Warning, Message = "{Signal} ignored: {Reason}")]
    private static partial void LogIgnored(ILogger logger, string signal, string reason);
}

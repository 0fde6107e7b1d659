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
            Register(PosixSignal.SIGHUP, reload),
            Register(PosixSignal.SIGTTIN, () => supervisor.Resize(1)),
            Register(PosixSignal.SIGTTOU, () => supervisor.Resize(-1)),
            Register((PosixSignal)Signals.SigUsr1, () => LogIgnored(logger, "SIGUSR1", "Tapster logs to standard output, so there are no log files to reopen")),
            Register((PosixSignal)Signals.SigUsr2, () => LogIgnored(logger, "SIGUSR2", "there is no binary upgrade in place; SIGHUP replaces the workers")),
        ];
    }

    public void Dispose()
    {
        foreach (var registration in _registrations)
        {
            registration.Dispose();
        }
    }

    private static PosixSignalRegistration Register(PosixSignal signal, Action action) =>
        PosixSignalRegistration.Create(signal, context =>
        {
            context.Cancel = true;
            action();
        });

    [LoggerMessage(EventId = 131, EventName = "signal.unignored", Level = LogLevel.Information, Message = "SIGHUP was ignored when Tapster started (nohup): taken back, so SIGHUP replaces the workers")]
    private static partial void LogUnignored(ILogger logger);

    [LoggerMessage(EventId = 130, EventName = "signal.ignored", Level = LogLevel.Warning, Message = "{Signal} ignored: {Reason}")]
    private static partial void LogIgnored(ILogger logger, string signal, string reason);
}

using Microsoft.Extensions.Logging;
using Tapster.Workers.Protocol;

namespace Tapster.Workers;

internal sealed partial class Supervisor
{
    [LoggerMessage(EventId = 100, EventName = "supervisor.error", Level = LogLevel.Error, Message = "Supervisor failed handling {Event}")]
    private static partial void LogSupervisorError(ILogger logger, string @event, Exception exception);

    [LoggerMessage(EventId = 101, EventName = "zygote.starting", Level = LogLevel.Information, Message = "Starting Python {Python} (zygote pid {Pid})")]
    private static partial void LogZygoteStarting(ILogger logger, string python, int pid);

    [LoggerMessage(EventId = 102, EventName = "zygote.ready", Level = LogLevel.Information, Message = "Python {Python} loaded app {App} (preload {Preload})")]
    private static partial void LogZygoteReady(ILogger logger, string python, string app, bool preload);

    [LoggerMessage(EventId = 103, EventName = "zygote.lost", Level = LogLevel.Error, Message = "The zygote stopped ({Detail}); starting a new one")]
    private static partial void LogZygoteLost(ILogger logger, string detail);

    [LoggerMessage(EventId = 104, EventName = "python.fallback", Level = LogLevel.Warning, Message = "App import failed under {Failed}: {Reason}; trying {Next}")]
    private static partial void LogTryingNextPython(ILogger logger, string failed, string reason, string next);

    [LoggerMessage(EventId = 110, EventName = "worker.ready", Level = LogLevel.Information, Message = "Worker {WorkerId} (pid {Pid}) ready with {Threads} threads")]
    private static partial void LogWorkerReady(ILogger logger, uint workerId, int pid, int threads);

    [LoggerMessage(EventId = 123, EventName = "worker.impostor", Level = LogLevel.Warning, Message = "Refused a {Role} connection claiming worker {WorkerId} from pid {Pid}: the zygote forked that worker as pid {WorkerPid}")]
    private static partial void LogImpostor(ILogger logger, PeerRole role, uint workerId, int pid, int workerPid);

    [LoggerMessage(EventId = 111, EventName = "worker.exited", Level = LogLevel.Debug, Message = "Worker {WorkerId} (pid {Pid}) exited: {Status}")]
    private static partial void LogWorkerExited(ILogger logger, uint workerId, int pid, string status);

    [LoggerMessage(EventId = 121, EventName = "worker.exit_status", Level = LogLevel.Warning, Message = "Worker {WorkerId} (pid {Pid}) ended on its own with {Status}")]
    private static partial void LogWorkerExitStatus(ILogger logger, uint workerId, int pid, string status);

    [LoggerMessage(EventId = 112, EventName = "worker.crashed", Level = LogLevel.Error, Message = "Worker {WorkerId} (pid {Pid}) died: {Reason}; replacing it")]
    private static partial void LogWorkerCrashed(ILogger logger, uint workerId, int pid, string reason);

    [LoggerMessage(EventId = 113, EventName = "worker.retired", Level = LogLevel.Information, Message = "Worker {WorkerId} (pid {Pid}) retired after {Requests} requests")]
    private static partial void LogWorkerRetired(ILogger logger, uint workerId, int pid, long requests);

    [LoggerMessage(EventId = 114, EventName = "worker.recycling", Level = LogLevel.Information, Message = "Worker {WorkerId} (pid {Pid}) reached {Requests} requests; recycling it gracefully once its replacement is ready")]
    private static partial void LogRecycling(ILogger logger, uint workerId, int pid, long requests);

    [LoggerMessage(EventId = 124, EventName = "worker.memory_limit", Level = LogLevel.Warning, Message = "Worker {WorkerId} (pid {Pid}) holds {PrivateMib} MiB of private memory, over workers.max_memory ({LimitMib} MiB), after {Requests} requests; recycling it gracefully once its replacement is ready")]
    private static partial void LogMemoryRecycling(ILogger logger, uint workerId, int pid, long privateMib, long limitMib, long requests);

    [LoggerMessage(EventId = 125, EventName = "worker.memory_limit_too_low", Level = LogLevel.Error, Message = "Worker {WorkerId} (pid {Pid}) holds {PrivateMib} MiB of private memory before serving a request, over workers.max_memory ({LimitMib} MiB): a new worker would be over it too, so none is recycled for memory until a reload; raise the limit")]
    private static partial void LogMemoryLimitBelowFreshWorker(ILogger logger, uint workerId, int pid, long privateMib, long limitMib);

    [LoggerMessage(EventId = 115, EventName = "worker.timeout", Level = LogLevel.Error, Message = "Worker {WorkerId} (pid {Pid}) overstayed the {TimeoutSeconds}s request timeout; logging its Python stack, then killing it")]
    private static partial void LogRequestTimedOut(ILogger logger, uint workerId, int pid, double timeoutSeconds);

    [LoggerMessage(EventId = 116, EventName = "worker.boot_error", Level = LogLevel.Error, Message = "A worker could not load the app: {Reason}\n{Traceback}")]
    private static partial void LogWorkerBootError(ILogger logger, string reason, string traceback);

    [LoggerMessage(EventId = 105, EventName = "app.load_timeout", Level = LogLevel.Error, Message = "App {App} has not finished loading after {TimeoutSeconds}s; logging the Python stack of pid {Pid}, then stopping it")]
    private static partial void LogLoadOverdue(ILogger logger, string app, double timeoutSeconds, int pid);

    [LoggerMessage(EventId = 119, EventName = "worker.boot_timeout", Level = LogLevel.Error, Message = "Worker {WorkerId} (pid {Pid}) has not loaded the app after {TimeoutSeconds}s; logging its Python stack, then killing it")]
    private static partial void LogWorkerBootOverdue(ILogger logger, uint workerId, int pid, double timeoutSeconds);

    [LoggerMessage(EventId = 106, EventName = "runtime.missing", Level = LogLevel.Error, Message = "Tapster's runtime directory {Path} or its worker socket was removed (a /tmp cleaner?): running workers serve on, but no new worker can connect until Tapster restarts")]
    private static partial void LogRuntimeMissing(ILogger logger, string path);

    [LoggerMessage(EventId = 107, EventName = "workers.reloading", Level = LogLevel.Information, Message = "SIGHUP: replacing {Count} workers gracefully with the app as it is on disk now (preload {Preload}: a new zygote imports it first, else each new worker does)")]
    private static partial void LogReloading(ILogger logger, int count, bool preload);

    [LoggerMessage(EventId = 117, EventName = "reload.done", Level = LogLevel.Information, Message = "SIGHUP: reload complete, {Count} workers serve the new code and environment and the previous ones are gone")]
    private static partial void LogReloaded(ILogger logger, int count);

    [LoggerMessage(EventId = 109, EventName = "reload.failed", Level = LogLevel.Error, Message = "SIGHUP: the app's new code did not load ({Reason}); the workers of the code loaded before serve on\n{Traceback}")]
    private static partial void LogReloadFailed(ILogger logger, string reason, string traceback);

    [LoggerMessage(EventId = 120, EventName = "worker.replaced", Level = LogLevel.Information, Message = "Worker {WorkerId} (pid {Pid}) replaced by a newer one; it exits after its requests in flight")]
    private static partial void LogReplaced(ILogger logger, uint workerId, int pid);

    [LoggerMessage(EventId = 108, EventName = "workers.resized", Level = LogLevel.Information, Message = "Worker count is now {Count}")]
    private static partial void LogResized(ILogger logger, int count);

    [LoggerMessage(EventId = 122, EventName = "workers.resize_refused", Level = LogLevel.Warning, Message = "SIGTTOU ignored: one worker is the fewest Tapster runs")]
    private static partial void LogResizeRefused(ILogger logger);

    [LoggerMessage(EventId = 118, EventName = "worker.protocol_violation", Level = LogLevel.Error, Message = "The {Peer} broke the worker protocol: {Reason}")]
    private static partial void LogProtocolViolation(ILogger logger, string peer, string reason);
}

using Tapster.Workers.Protocol;

namespace Tapster.Workers;

/// <summary>Messages to the supervisor loop, the single owner of the pool's mutable state.</summary>
internal abstract record SupervisorEvent
{
    public sealed record ZygoteConnected(FrameConnection Connection, int Pid) : SupervisorEvent;

    /// <summary>Zygote <paramref name="Generation"/> loaded the app; a zygote that was replaced meanwhile is not news.</summary>
    public sealed record ZygoteReady(int Generation) : SupervisorEvent;

    public sealed record ZygoteFailed(int Generation, BootError Error) : SupervisorEvent;

    public sealed record ZygoteGone(int Generation, string Detail, bool FromProcessExit) : SupervisorEvent;

    public sealed record Forked(uint WorkerId, int Pid) : SupervisorEvent;

    /// <summary>Zygote <paramref name="ZygoteGeneration"/> reaped a child.</summary>
    public sealed record Exited(int ZygoteGeneration, int Pid, int Status) : SupervisorEvent;

    /// <summary>A worker's control, slot or output connection passed the handshake.</summary>
    public sealed record WorkerConnected(Hello Hello, FrameConnection Connection) : SupervisorEvent;

    public sealed record WorkerFailedToBoot(uint WorkerId, BootError Error) : SupervisorEvent;

    public sealed record WorkerLost(WorkerProcess Worker, string Reason) : SupervisorEvent;

    public sealed record TimedOut(WorkerSlot Slot, TimeSpan After) : SupervisorEvent;

    public sealed record KillNow(WorkerProcess Worker) : SupervisorEvent;

    public sealed record Recycle(WorkerProcess Worker) : SupervisorEvent;

    public sealed record Drained(WorkerProcess Worker) : SupervisorEvent;

    /// <summary>Time to read the workers' private memory against workers.max_memory.</summary>
    public sealed record MemoryCheckDue : SupervisorEvent;

    public sealed record SpawnDue : SupervisorEvent;

    /// <summary>SIGTTIN (+1) or SIGTTOU (-1): one worker more or fewer.</summary>
    public sealed record Resize(int Delta) : SupervisorEvent;

    /// <summary>SIGHUP: replace every worker gracefully, the new ones with this environment.</summary>
    public sealed record Reload(IReadOnlyDictionary<string, string> Environment) : SupervisorEvent;

    /// <summary>Zygote <paramref name="Generation"/> has not loaded the app in time; the second notice kills it.</summary>
    public sealed record ZygoteLoadOverdue(int Generation, bool StackDumped) : SupervisorEvent;

    /// <summary>
    /// The worker has not connected all its slots in time; the second notice kills it. By id: the timer
    /// lives for the whole boot timeout, and must not keep a worker that came up (or died) in memory.
    /// </summary>
    public sealed record WorkerBootOverdue(uint WorkerId, bool StackDumped) : SupervisorEvent;

    public sealed record Stop(TaskCompletionSource Done) : SupervisorEvent;
}

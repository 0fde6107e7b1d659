using Tapster.Workers.Protocol;

namespace Tapster.Workers;

internal enum WorkerState
{
    /// <summary>Forked; connections are arriving.</summary>
    Starting,

    /// <summary>All slots connected: the dispatcher may hand it requests.</summary>
    Ready,

    /// <summary>Finishing its in-flight requests before a graceful exit (recycling, shutdown).</summary>
    Draining,

    /// <summary>Gone or being killed.</summary>
    Dead,
}

/// <summary>A Python worker process. Mutable state is owned by the supervisor loop, except the
/// dispatcher's busy count and the request counter.</summary>
internal sealed class WorkerProcess(uint id, int threads, long startedAt)
{
    private long _requestsServed;

    public uint Id { get; } = id;

    public int Pid { get; set; }

    public int Threads { get; } = threads;

    public long StartedAt { get; } = startedAt;

    public WorkerState State { get; set; } = WorkerState.Starting;

    public FrameConnection? Control { get; set; }

    public List<WorkerSlot> Slots { get; } = [];

    /// <summary>Request connections of slots whose response connection has not arrived yet.</summary>
    public Dictionary<ushort, FrameConnection> UnpairedSlots { get; } = [];

    /// <summary>Guarded by the dispatcher's lock.</summary>
    internal int BusyCount { get; set; }

    /// <summary>Which reload (SIGHUP) spawned it; older generations are drained as the new one comes up.</summary>
    public int Generation { get; init; }

    /// <summary>Recycle after this many requests; long.MaxValue = never.</summary>
    public long RecycleAfter { get; init; } = long.MaxValue;

    public long RequestsServed => Interlocked.Read(ref _requestsServed);

    /// <summary>Counts a finished request; true when that reached the recycling threshold.</summary>
    public bool CountRequest() => Interlocked.Increment(ref _requestsServed) == RecycleAfter;
}

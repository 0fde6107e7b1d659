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

    /// <summary>0 until the zygote reports the fork: only that process may then speak for the worker.</summary>
    public int Pid { get; private set; }

    /// <summary>The pidfd through which it is signalled; see <see cref="Signals.Open"/>.</summary>
    private Microsoft.Win32.SafeHandles.SafeFileHandle? _process;

    /// <summary>Which zygote forked it: only that one reports its exit.</summary>
    public int ZygoteGeneration { get; init; }

    public int Threads { get; } = threads;

    public long StartedAt { get; } = startedAt;

    public WorkerState State { get; set; } = WorkerState.Starting;

    public FrameConnection? Control { get; set; }

    public List<WorkerSlot> Slots { get; } = [];

    /// <summary>
    /// Connections that named it before the zygote's FORKED told its pid (the two race on different
    /// sockets); they are judged when it does.
    /// </summary>
    public List<(Hello Hello, FrameConnection Connection)> EarlyArrivals { get; } = [];

    /// <summary>Request connections of slots whose response connection has not arrived yet.</summary>
    public Dictionary<ushort, FrameConnection> UnpairedSlots { get; } = [];

    /// <summary>Guarded by the dispatcher's lock.</summary>
    internal int BusyCount { get; set; }

    /// <summary>Which reload (SIGHUP) spawned it; older generations are drained as the new one comes up.</summary>
    public int Generation { get; init; }

    /// <summary>Recycle after this many requests; long.MaxValue = never.</summary>
    public long RecycleAfter { get; init; } = long.MaxValue;

    /// <summary>Tapster sent it SIGKILL (a timeout, a broken protocol, or burying it): dying of that is no news.</summary>
    public bool Killed { get; set; }

    /// <summary>It reached <see cref="RecycleAfter"/> and serves on until its replacement is ready.</summary>
    public bool RecycleDue { get; set; }

    public long RequestsServed => Interlocked.Read(ref _requestsServed);

    /// <summary>Learns its process id, while the process is surely alive (just forked, or connected).</summary>
    public void Attach(int pid)
    {
        if (Pid != 0)
        {
            return;
        }

        Pid = pid;
        _process = Signals.Open(pid);
    }

    /// <summary>Takes over one of its open files, with the access it has (<see cref="WorkerFiles"/>).</summary>
    /// <exception cref="IOException">It cannot be taken; the message says why.</exception>
    public Microsoft.Win32.SafeHandles.SafeFileHandle TakeFile(int fd) => WorkerFiles.Take(_process, Pid, fd);

    /// <summary>Signals its process, never another that was given the same number after it was reaped.</summary>
    public bool Signal(int signal) => Signals.Send(_process, Pid, signal);

    /// <summary>Its exit is known (or can no longer be): nothing is signalled through it from now on.</summary>
    public void Forget() => _process?.Dispose();

    /// <summary>Counts a finished request; true when that reached the recycling threshold.</summary>
    public bool CountRequest() => Interlocked.Increment(ref _requestsServed) == RecycleAfter;
}

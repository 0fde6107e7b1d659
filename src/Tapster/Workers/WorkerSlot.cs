using System.Diagnostics;
using Tapster.Workers.Protocol;

namespace Tapster.Workers;

/// <summary>
/// One thread of a worker and its own connection: carries one request at a time. Its busy flag is owned
/// by the <see cref="Dispatcher"/>; its deadline is read by the timeout watchdog.
/// </summary>
internal sealed class WorkerSlot(WorkerProcess worker, int index, FrameConnection connection)
{
    private readonly byte[] _ownSendBuffer = new byte[16 * 1024];
    private long _heldDeadline;
    private long _pausedAt;

    public WorkerProcess Worker { get; } = worker;

    public int Index { get; } = index;

    public FrameConnection Connection { get; } = connection;

    /// <summary>Guarded by the dispatcher's lock.</summary>
    internal bool Busy { get; set; }

    /// <summary>Stopwatch timestamp after which the running request has overstayed; 0 when idle.</summary>
    internal long Deadline { get; set; }

    /// <summary>Set by the watchdog when it kills this slot's worker for overstaying.</summary>
    internal volatile bool TimedOut;

    /// <summary>
    /// Stops the request's clock while Tapster waits for the client to take the response: the timeout
    /// is the app's time, and a worker whose response waits on a slow reader (a phone, a large page)
    /// has done its part. Killing it there would also fail the other requests it runs.
    /// </summary>
    internal void PauseDeadline()
    {
        _heldDeadline = Deadline;
        _pausedAt = Stopwatch.GetTimestamp();
        Deadline = 0; // the watchdog skips a slot without a deadline
    }

    /// <summary>Restarts the clock where <see cref="PauseDeadline"/> stopped it.</summary>
    internal void ResumeDeadline()
    {
        if (_heldDeadline != 0)
        {
            Deadline = _heldDeadline + (Stopwatch.GetTimestamp() - _pausedAt);
            _heldDeadline = 0;
        }
    }

    /// <summary>
    /// A buffer of at least <paramref name="size"/> bytes for the head of the next request frame (the
    /// body goes from where it already is): the slot's own, reused, or for huge request headers a new
    /// one that is not kept.
    /// </summary>
    public byte[] SendBuffer(int size) => size <= _ownSendBuffer.Length ? _ownSendBuffer : new byte[size];
}

using System.Diagnostics;

namespace Tapster.Workers;

/// <summary>
/// Hands requests to idle worker slots, first come first served. A request gets a slot only when one is
/// idle (never a busy worker's backlog), from the worker with the fewest busy threads. Waiting requests
/// form one FIFO queue bounded in length and in wait time: past either, the caller answers 503 at once.
/// A waiter whose client left is dropped and never reaches a worker.
/// </summary>
internal sealed class Dispatcher(int maxQueueLength, TimeSpan maxQueueWait, TimeProvider time)
{
    private readonly Lock _lock = new();
    private readonly List<WorkerProcess> _workers = [];
    private readonly LinkedList<Waiter> _queue = new();
    private bool _closed;

    /// <summary>Raised (outside the lock) when a draining worker has no request left in flight.</summary>
    public event Action<WorkerProcess>? WorkerDrained;

    public int QueueLength
    {
        get
        {
            lock (_lock)
            {
                return _queue.Count;
            }
        }
    }

    public ValueTask<Acquired> AcquireAsync(CancellationToken clientGone)
    {
        Waiter waiter;
        lock (_lock)
        {
            if (_closed)
            {
                return ValueTask.FromResult(new Acquired(null, AcquireFailure.ShuttingDown));
            }

            if (_queue.Count == 0 && TakeIdleSlot() is { } slot)
            {
                return ValueTask.FromResult(new Acquired(slot, AcquireFailure.None));
            }

            if (_queue.Count >= maxQueueLength)
            {
                return ValueTask.FromResult(new Acquired(null, AcquireFailure.QueueFull));
            }

            waiter = new Waiter(this, time.GetTimestamp());
            waiter.Node = _queue.AddLast(waiter);
        }

        if (clientGone.CanBeCanceled)
        {
            waiter.Registration = clientGone.Register(static state => ((Waiter)state!).Owner.Abandon((Waiter)state!), waiter);
        }

        return new ValueTask<Acquired>(waiter.Completion.Task);
    }

    /// <summary>Gives a slot back after its request finished (or failed) and serves the queue with it.</summary>
    public void Release(WorkerSlot slot)
    {
        var worker = slot.Worker;
        bool drained;
        lock (_lock)
        {
            slot.Busy = false;
            slot.Deadline = 0;
            worker.BusyCount--;
            drained = worker.State == WorkerState.Draining && worker.BusyCount == 0;
            ServeQueue();
        }

        if (drained)
        {
            WorkerDrained?.Invoke(worker);
        }
    }

    /// <summary>A worker whose slots are all connected joins the pool.</summary>
    public void Add(WorkerProcess worker)
    {
        lock (_lock)
        {
            _workers.Add(worker);
            ServeQueue();
        }
    }

    /// <summary>The worker gets no new requests; those in flight finish (or fail) on their own.</summary>
    public void Remove(WorkerProcess worker)
    {
        bool drained;
        lock (_lock)
        {
            _workers.Remove(worker);
            drained = worker.State == WorkerState.Draining && worker.BusyCount == 0;
        }

        if (drained)
        {
            WorkerDrained?.Invoke(worker);
        }
    }

    /// <summary>Answers queued requests that waited longer than allowed; called by the watchdog.</summary>
    public void ExpireWaiters()
    {
        var now = time.GetTimestamp();
        List<Waiter>? expired = null;
        lock (_lock)
        {
            while (_queue.First is { } first && time.GetElapsedTime(first.Value.QueuedAt, now) > maxQueueWait)
            {
                _queue.RemoveFirst();
                (expired ??= []).Add(first.Value);
            }
        }

        foreach (var waiter in expired ?? [])
        {
            waiter.Complete(new Acquired(null, AcquireFailure.QueueTimeout));
        }
    }

    /// <summary>Busy slots whose request overstayed <paramref name="now"/>; called by the watchdog.</summary>
    public List<WorkerSlot> OverdueSlots(long now)
    {
        var overdue = new List<WorkerSlot>();
        lock (_lock)
        {
            foreach (var worker in _workers)
            {
                foreach (var slot in worker.Slots)
                {
                    if (slot.Busy && slot.Deadline != 0 && now > slot.Deadline && !slot.TimedOut)
                    {
                        overdue.Add(slot);
                    }
                }
            }
        }

        return overdue;
    }

    /// <summary>Refuses new requests and answers every queued one: the server is stopping for good.</summary>
    public void Close()
    {
        List<Waiter> waiting;
        lock (_lock)
        {
            _closed = true;
            waiting = [.. _queue];
            _queue.Clear();
        }

        foreach (var waiter in waiting)
        {
            waiter.Complete(new Acquired(null, AcquireFailure.ShuttingDown));
        }
    }

    private void Abandon(Waiter waiter)
    {
        lock (_lock)
        {
            if (waiter.Node?.List is null)
            {
                return;
            }

            _queue.Remove(waiter.Node);
        }

        waiter.Complete(new Acquired(null, AcquireFailure.ClientGone));
    }

    // Called under the lock.
    private void ServeQueue()
    {
        while (_queue.First is { } first)
        {
            var slot = TakeIdleSlot();
            if (slot is null)
            {
                return;
            }

            _queue.RemoveFirst();
            // Completion runs continuations asynchronously, so no request code runs under the lock.
            first.Value.Complete(new Acquired(slot, AcquireFailure.None));
        }
    }

    // Called under the lock.
    private WorkerSlot? TakeIdleSlot()
    {
        WorkerProcess? best = null;
        foreach (var worker in _workers)
        {
            if (worker.State == WorkerState.Ready && worker.BusyCount < worker.Slots.Count
                && (best is null || worker.BusyCount < best.BusyCount))
            {
                best = worker;
            }
        }

        if (best is null)
        {
            return null;
        }

        foreach (var slot in best.Slots)
        {
            if (!slot.Busy)
            {
                slot.Busy = true;
                slot.TimedOut = false;
                best.BusyCount++;
                return slot;
            }
        }

        throw new UnreachableException("a worker's busy count disagrees with its slots");
    }

    private sealed class Waiter(Dispatcher owner, long queuedAt)
    {
        public Dispatcher Owner { get; } = owner;

        public long QueuedAt { get; } = queuedAt;

        public LinkedListNode<Waiter>? Node { get; set; }

        public CancellationTokenRegistration Registration { get; set; }

        public TaskCompletionSource<Acquired> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Complete(Acquired result)
        {
            if (Completion.TrySetResult(result))
            {
                Registration.Dispose();
            }
            else if (result.Slot is not null)
            {
                throw new UnreachableException("a slot was handed to a waiter that was already answered");
            }
        }
    }
}

internal enum AcquireFailure
{
    None,
    QueueFull,
    QueueTimeout,
    ClientGone,
    ShuttingDown,
}

internal readonly record struct Acquired(WorkerSlot? Slot, AcquireFailure Failure);

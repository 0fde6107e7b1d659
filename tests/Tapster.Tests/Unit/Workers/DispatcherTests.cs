using System.Net.Sockets;
using Microsoft.Extensions.Time.Testing;
using Tapster.Workers;
using Tapster.Workers.Protocol;

namespace Tapster.Tests.Unit.Workers;

public sealed class DispatcherTests : IDisposable
{
    private readonly FakeTimeProvider _time = new();
    private readonly List<Socket> _sockets = [];

    [Fact]
    public async Task AcquireAsync_IdleSlot_ReturnsItAtOnce()
    {
        var dispatcher = NewDispatcher();
        var worker = AddWorker(dispatcher, 1, threads: 1);

        var acquired = await dispatcher.AcquireAsync(CancellationToken.None);

        Assert.Same(worker.Slots[0], acquired.Slot);
    }

    [Fact]
    public async Task AcquireAsync_PrefersWorkerWithFewestBusyThreads()
    {
        var dispatcher = NewDispatcher();
        var first = AddWorker(dispatcher, 1, threads: 2);
        var second = AddWorker(dispatcher, 2, threads: 2);

        var a = await dispatcher.AcquireAsync(CancellationToken.None);
        var b = await dispatcher.AcquireAsync(CancellationToken.None);

        Assert.NotSame(a.Slot!.Worker, b.Slot!.Worker);
        Assert.Contains(a.Slot.Worker, new[] { first, second });
    }

    [Fact]
    public async Task Release_QueuedRequests_AreServedInArrivalOrder()
    {
        var dispatcher = NewDispatcher();
        AddWorker(dispatcher, 1, threads: 1);
        var running = await dispatcher.AcquireAsync(CancellationToken.None);
        var first = dispatcher.AcquireAsync(CancellationToken.None).AsTask();
        var second = dispatcher.AcquireAsync(CancellationToken.None).AsTask();
        Assert.False(first.IsCompleted);

        dispatcher.Release(running.Slot!);
        var firstSlot = (await first.WaitAsync(TimeSpan.FromSeconds(5))).Slot!;
        Assert.False(second.IsCompleted);
        dispatcher.Release(firstSlot);

        Assert.NotNull((await second.WaitAsync(TimeSpan.FromSeconds(5))).Slot);
    }

    [Fact]
    public async Task AcquireAsync_QueueFull_FailsAtOnce()
    {
        var dispatcher = NewDispatcher(maxQueue: 1);
        AddWorker(dispatcher, 1, threads: 1);
        await dispatcher.AcquireAsync(CancellationToken.None);
        _ = dispatcher.AcquireAsync(CancellationToken.None).AsTask();

        var refused = await dispatcher.AcquireAsync(CancellationToken.None);

        Assert.Equal(AcquireFailure.QueueFull, refused.Failure);
    }

    [Fact]
    public async Task ExpireWaiters_AfterMaxWait_FailsTheWaiterWithQueueTimeout()
    {
        var dispatcher = NewDispatcher(maxWait: TimeSpan.FromSeconds(2));
        AddWorker(dispatcher, 1, threads: 1);
        await dispatcher.AcquireAsync(CancellationToken.None);
        var waiting = dispatcher.AcquireAsync(CancellationToken.None).AsTask();

        _time.Advance(TimeSpan.FromSeconds(1));
        dispatcher.ExpireWaiters();
        Assert.False(waiting.IsCompleted);
        _time.Advance(TimeSpan.FromSeconds(2));
        dispatcher.ExpireWaiters();

        Assert.Equal(AcquireFailure.QueueTimeout, (await waiting.WaitAsync(TimeSpan.FromSeconds(5))).Failure);
    }

    [Fact]
    public async Task AcquireAsync_ClientLeavesWhileQueued_WaiterIsDroppedAndNeverGetsASlot()
    {
        var dispatcher = NewDispatcher();
        AddWorker(dispatcher, 1, threads: 1);
        var running = await dispatcher.AcquireAsync(CancellationToken.None);
        using var clientGone = new CancellationTokenSource();
        var abandoned = dispatcher.AcquireAsync(clientGone.Token).AsTask();
        var next = dispatcher.AcquireAsync(CancellationToken.None).AsTask();

        await clientGone.CancelAsync();
        Assert.Equal(AcquireFailure.ClientGone, (await abandoned.WaitAsync(TimeSpan.FromSeconds(5))).Failure);
        dispatcher.Release(running.Slot!);

        Assert.NotNull((await next.WaitAsync(TimeSpan.FromSeconds(5))).Slot);
        Assert.Equal(0, dispatcher.QueueLength);
    }

    [Fact]
    public async Task Remove_DrainingWorker_RaisesDrainedWhenItsLastRequestEnds()
    {
        var dispatcher = NewDispatcher();
        var worker = AddWorker(dispatcher, 1, threads: 1);
        var running = await dispatcher.AcquireAsync(CancellationToken.None);
        var drained = new List<WorkerProcess>();
        dispatcher.WorkerDrained += drained.Add;

        worker.State = WorkerState.Draining;
        dispatcher.Remove(worker);
        Assert.Empty(drained);
        dispatcher.Release(running.Slot!);

        Assert.Equal([worker], drained);
    }

    [Fact]
    public async Task Close_AnswersQueuedRequestsAndRefusesNewOnes()
    {
        var dispatcher = NewDispatcher();
        AddWorker(dispatcher, 1, threads: 1);
        await dispatcher.AcquireAsync(CancellationToken.None);
        var waiting = dispatcher.AcquireAsync(CancellationToken.None).AsTask();

        dispatcher.Close();

        Assert.Equal(AcquireFailure.ShuttingDown, (await waiting.WaitAsync(TimeSpan.FromSeconds(5))).Failure);
        Assert.Equal(AcquireFailure.ShuttingDown, (await dispatcher.AcquireAsync(CancellationToken.None)).Failure);
    }

    [Fact]
    public async Task OverdueSlots_ListsBusySlotsPastTheirDeadline()
    {
        var dispatcher = NewDispatcher();
        AddWorker(dispatcher, 1, threads: 2);
        var slot = (await dispatcher.AcquireAsync(CancellationToken.None)).Slot!;
        slot.Deadline = 100;

        Assert.Empty(dispatcher.OverdueSlots(50));
        Assert.Equal([slot], dispatcher.OverdueSlots(150));
    }

    public void Dispose()
    {
        foreach (var socket in _sockets)
        {
            socket.Dispose();
        }
    }

    private Dispatcher NewDispatcher(int maxQueue = 16, TimeSpan? maxWait = null) =>
        new(maxQueue, maxWait ?? TimeSpan.FromSeconds(30), _time);

    private WorkerProcess AddWorker(Dispatcher dispatcher, uint id, int threads)
    {
        var worker = new WorkerProcess(id, threads, 0) { State = WorkerState.Ready };
        for (var i = 0; i < threads; i++)
        {
            var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            _sockets.Add(socket);
            worker.Slots.Add(new WorkerSlot(worker, i, new FrameConnection(socket)));
        }

        dispatcher.Add(worker);
        return worker;
    }
}

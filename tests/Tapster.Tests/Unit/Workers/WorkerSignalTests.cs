using System.Diagnostics;
using Tapster.Workers;

namespace Tapster.Tests.Unit.Workers;

public sealed class WorkerSignalTests
{
    static Process Sleeper() => Process.Start(new ProcessStartInfo("sleep", "30") { UseShellExecute = false })!;

    [Fact]
    public async Task A_worker_is_signalled_while_it_lives_and_never_after_it_was_reaped()
    {
        using var sleeper = Sleeper();
        var worker = new WorkerProcess(1, 1, 0);
        worker.Attach(sleeper.Id);

        Assert.True(worker.Signal(0)); // signal 0: the process exists
        Assert.True(worker.Signal(Signals.SigKill));
        await sleeper.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10)); // reaped: its number is free again

        Assert.False(worker.Signal(0));
    }

    [Fact]
    public void A_forgotten_worker_is_never_signalled_by_number()
    {
        using var sleeper = Sleeper();
        try
        {
            var worker = new WorkerProcess(1, 1, 0);
            worker.Attach(sleeper.Id);

            worker.Forget();

            Assert.False(worker.Signal(0));
            Assert.False(sleeper.HasExited);
        }
        finally
        {
            sleeper.Kill();
        }
    }
}

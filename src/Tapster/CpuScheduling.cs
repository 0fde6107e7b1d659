using System.Globalization;
using System.Runtime.InteropServices;

namespace Tapster;

/// <summary>
/// Runs the server and its workers under Linux's SCHED_BATCH policy instead of the normal one.
///
/// Every request crosses processes twice: the server wakes a worker with the request, the worker wakes
/// the server with the response. Under the normal policy a task that wakes up may preempt the one that
/// woke it, so the server was often switched out in the middle of its send, to run again a few
/// microseconds later when the worker blocked; the same the other way round. A SCHED_BATCH task never
/// preempts on waking: it waits for the running task to block or use up its slice, which here comes
/// within microseconds. Fewer context switches, the same CPU share (batch keeps the nice value and
/// the fair scheduler's weights): 4-10% more requests/s on the smallest app, with a lower p99
/// (docs/designs/core-server.md). No privilege is needed to choose it.
///
/// Only threads under the normal policy are moved: a policy the operator chose (chrt, systemd's
/// CPUSchedulingPolicy=) stays. Threads and processes started later inherit the policy of the thread
/// that starts them, so the zygote, the workers and whatever the app runs get it too.
/// </summary>
internal static partial class CpuScheduling
{
    /// <summary>The setting's values.</summary>
    public const string Batch = "batch";
    public const string Inherit = "inherit";

    private const int SchedOther = 0;
    private const int SchedBatch = 3;

    /// <summary>errno of a thread that ended between the listing and the call.</summary>
    private const int Esrch = 3;

    /// <summary>A few passes catch a thread started by one not yet moved while the list was read.</summary>
    private const int MaxPasses = 4;

    /// <summary>Null when the setting names a policy; else the problem, for the settings check.</summary>
    public static string? Check(string policy) => policy is Batch or Inherit
        ? null
        : $"'{policy}' is not a scheduling policy Tapster sets (use \"{Batch}\" or \"{Inherit}\")";

    /// <summary>
    /// Moves every thread of this process from the normal policy to <paramref name="policy"/>'s; call
    /// before the workers start. Null on success or when there is nothing to do; else why it failed
    /// (a sandbox that forbids sched_setscheduler), which only costs speed.
    /// </summary>
    public static string? Apply(string policy)
    {
        if (policy != Batch || !OperatingSystem.IsLinux())
        {
            return null;
        }

        for (var pass = 0; pass < MaxPasses; pass++)
        {
            var moved = 0;
            foreach (var tid in ThreadIds())
            {
                // -1 for a thread that exited meanwhile: nothing to move.
                if (SchedGetScheduler(tid) != SchedOther)
                {
                    continue;
                }

                var parameters = default(SchedParam);
                if (SchedSetScheduler(tid, SchedBatch, in parameters) == 0)
                {
                    moved++;
                    continue;
                }

                var errno = Marshal.GetLastPInvokeError();
                if (errno != Esrch)
                {
                    return $"cannot set the SCHED_BATCH CPU policy ({Marshal.GetPInvokeErrorMessage(errno)}); running under the normal one";
                }
            }

            if (moved == 0)
            {
                return null;
            }
        }

        return null;
    }

    private static IEnumerable<int> ThreadIds()
    {
        string[] tasks;
        try
        {
            tasks = Directory.GetDirectories("/proc/self/task");
        }
        catch (IOException)
        {
            // No /proc: this thread at least (0 = the caller).
            return [0];
        }
        catch (UnauthorizedAccessException)
        {
            return [0];
        }

        return tasks.Select(path => int.TryParse(Path.GetFileName(path), NumberStyles.None, CultureInfo.InvariantCulture, out var tid) ? tid : -1)
            .Where(tid => tid > 0);
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct SchedParam
    {
        public int Priority;
    }

    [LibraryImport("libc", EntryPoint = "sched_getscheduler", SetLastError = true)]
    private static partial int SchedGetScheduler(int pid);

    [LibraryImport("libc", EntryPoint = "sched_setscheduler", SetLastError = true)]
    private static partial int SchedSetScheduler(int pid, int policy, in SchedParam parameters);
}

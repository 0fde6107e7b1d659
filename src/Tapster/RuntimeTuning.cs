using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Tapster;

/// <summary>
/// Settings the .NET runtime reads only at process start. Tapster's heap is small and short-lived
/// (pooled buffers, a few objects per request), but the GC sizes its youngest generation from the CPU
/// cache, about 28 MiB here, and touches all of it between collections. A 1 MiB budget keeps the
/// server's resident memory near 20 MiB at no measurable cost in throughput (2 MiB cost 3 MiB more;
/// 512 KiB promotes more and costs more). The native build cannot
/// take it from its embedded config, so the process re-executes itself once with the variable set.
/// </summary>
internal static partial class RuntimeTuning
{
    private const string Gen0Budget = "DOTNET_GCgen0size";

    /// <summary>Hexadecimal, as the runtime parses it: 1 MiB.</summary>
    private const string Gen0BudgetValue = "100000";

    /// <summary>
    /// Socket completions run on the event thread instead of hopping to the thread pool: 4-8% more
    /// requests/s here. Safe because no socket continuation in Tapster blocks (locks are short, file work
    /// is async); read before the first socket is made, so set first thing.
    /// </summary>
    private const string InlineCompletions = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";

    /// <summary>
    /// Event threads (epoll loops). With inline completions .NET runs one per core, so that request
    /// work on them can use every core; but here the Python workers do most of the work (the server
    /// takes a quarter to a tenth of the CPU a request costs), and two loops on two cores only took
    /// turns waking up: one per two cores served 2-3% more requests/s with a lower p99, side by side.
    /// </summary>
    private const string EventThreads = "DOTNET_SYSTEM_NET_SOCKETS_THREAD_COUNT";

    public static void ApplyOrReexecute(string[] args)
    {
        if (Environment.GetEnvironmentVariable(InlineCompletions) is null)
        {
            Environment.SetEnvironmentVariable(InlineCompletions, "1");
        }

        if (Environment.GetEnvironmentVariable(EventThreads) is null)
        {
            Environment.SetEnvironmentVariable(EventThreads, Math.Max(1, Environment.ProcessorCount / 2).ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        // Only the native build: under `dotnet` (tests, JIT) /proc/self/exe is the host, not Tapster.
        if (RuntimeFeature.IsDynamicCodeSupported || Environment.GetEnvironmentVariable(Gen0Budget) is not null)
        {
            return;
        }

        // .NET's environment is a copy; setenv changes the one execv passes on.
        if (SetEnv(Gen0Budget, Gen0BudgetValue, 1) != 0)
        {
            return;
        }

        // The real path, not /proc/self/exe: the process keeps its name in ps and top.
        if (Environment.ProcessPath is not { } self)
        {
            return;
        }

        string?[] argv = [self, .. args, null];
        Execv(self, argv);
        // Still here: exec failed (an unusual sandbox); run untuned rather than not at all.
    }

    [LibraryImport("libc", EntryPoint = "setenv", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int SetEnv(string name, string value, int overwrite);

    [LibraryImport("libc", EntryPoint = "execv", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Execv(string path, string?[] argv);
}

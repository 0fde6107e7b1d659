using System.Globalization;
using Tapster.Edge;
using Tapster.Edge.Compression;
using Tapster.Edge.Headers;
using Tapster.Edge.Limits;
using Tapster.Edge.Proxy;
using Tapster.Edge.Static;
using Tapster.Telemetry;
using Tapster.Tls;

namespace Tapster.Configuration;

/// <summary>
/// Every setting of <c>tapster serve</c>, once: the file, the flags, their environment twins,
/// validation, <c>config show</c> and docs/config.md are all made from this list. The app's own
/// environment (<c>[env]</c>) is the one table outside it: its keys are the app's, not Tapster's.
/// </summary>
internal static class SettingsSchema
{
    /// <summary>The table whose keys become the app's environment variables.</summary>
    public const string EnvTable = "env";

    /// <summary>The table whose keys are URL prefixes served from directories.</summary>
    public const string StaticTable = "static";

    /// <summary>Where the defaults come from: <see cref="ServeSettings"/>'s initializers.</summary>
    public static ServeSettings Defaults { get; } = new() { App = "." };

    public static IReadOnlyList<Setting> All { get; } =
    [
        new TypedSetting<string>
        {
            Key = "app", Flag = "APP", Parser = ValueParsers.Text,
            Doc = "The WSGI app: module:callable, module:factory(), a .py file, a directory holding wsgi.py or app.py, or a Django project root (manage.py).",
            DefaultDoc = "the current directory",
            Get = s => s.App, Set = (s, v) => s with { App = v },
        },
        new TypedSetting<string?>
        {
            Key = "python", Flag = "--python", Parser = ValueParsers.Program,
            Doc = "Python interpreter: a name on PATH or a path; relative, it is taken from the config file's directory in the file, and from the project directory (--chdir, or the app's) on the flag and in the environment, so --python .venv/bin/python names the app's venv from anywhere.",
            DefaultDoc = ".venv/bin/python or venv/bin/python beside the app, else an activated $VIRTUAL_ENV, else python3 on PATH, else /usr/bin/python3",
            Get = s => s.Python, Set = (s, v) => s with { Python = v },
        },
        new TypedSetting<string?>
        {
            Key = "chdir", Flag = "--chdir", Parser = ValueParsers.Directory,
            Doc = "The project directory: the app, tapster.toml and .tapster/ are looked for here (relative to the config file).",
            DefaultDoc = "the directory a path APP names, else the current directory",
            Get = s => s.Chdir, Set = (s, v) => s with { Chdir = v },
        },
        new TypedSetting<IReadOnlyList<string>>
        {
            Key = "env_files", Parser = ValueParsers.ExistingFiles,
            Doc = "KEY=VALUE files (relative to the config file) read into the app's environment, in order; only the files named here are read.",
            DefaultDoc = "none",
            Get = s => s.EnvFiles, Set = (s, v) => s with { EnvFiles = v },
        },
        new TypedSetting<IReadOnlyList<string>>
        {
            Key = "http.listen", Flag = "--bind", Alias = "-b", Placeholder = "HOST:PORT", Parser = ValueParsers.TextList,
            Doc = "Addresses to listen on, HOST:PORT (0.0.0.0:8000, [::]:8000, :8000, localhost:8000), or unix:PATH, a Unix socket for a proxy on this machine (absolute path; the file gets mode 0660, so the proxy joins Tapster's group; a stale one is replaced; see docs/proxy.md), or fd://N, a listening socket Tapster was started with (systemd socket activation: ListenStream= passes them from 3 on). The flag repeats; its environment twin is comma-separated.",
            Check = CheckListen,
            Get = s => s.Bind, Set = (s, v) => s with { Bind = v },
        },
        new TypedSetting<string>
        {
            Key = "http.script_name", Flag = "--script-name", Placeholder = "PREFIX", Parser = ValueParsers.Text,
            Doc = "URL prefix the app is mounted at: given to it as SCRIPT_NAME and taken off PATH_INFO.",
            Check = CheckScriptName,
            Get = s => s.ScriptName, Set = (s, v) => s with { ScriptName = v },
        },
        new TypedSetting<int>
        {
            Key = "workers.count", Flag = "--workers", Alias = "-w", Parser = ValueParsers.WorkerCount,
            Doc = "Worker processes; \"auto\" = 2 x cores + 1.",
            DefaultDoc = "\"auto\"",
            Check = Between(1, MaxWorkers),
            Get = s => s.Workers, Set = (s, v) => s with { Workers = v },
        },
        new TypedSetting<int>
        {
            Key = "workers.threads", Flag = "--threads", Parser = ValueParsers.WholeNumber,
            Doc = "Concurrent requests per worker (threads).",
            Check = Between(1, MaxThreads),
            Get = s => s.Threads, Set = (s, v) => s with { Threads = v },
        },
        new TypedSetting<TimeSpan>
        {
            Key = "workers.timeout", Flag = "--timeout", Alias = "-t", Parser = ValueParsers.Duration,
            Doc = "A request running longer gets 504 and its worker is replaced (after its Python stack is logged).",
            Get = s => s.Timeout, Set = (s, v) => s with { Timeout = v },
        },
        new TypedSetting<TimeSpan>
        {
            Key = "workers.boot_timeout", Flag = "--boot-timeout", Parser = ValueParsers.Duration,
            Doc = "How long the app may take to load: the zygote's import, or each worker's with --no-preload. Past it, the Python stack of where it hangs is logged, and Tapster exits 3 at startup, or replaces the worker later.",
            Get = s => s.BootTimeout, Set = (s, v) => s with { BootTimeout = v },
        },
        new TypedSetting<TimeSpan>
        {
            Key = "workers.graceful_timeout", Flag = "--graceful-timeout", Parser = ValueParsers.Duration,
            Doc = "On SIGTERM/SIGINT, how long requests in flight may take to finish.",
            Get = s => s.GracefulTimeout, Set = (s, v) => s with { GracefulTimeout = v },
        },
        new TypedSetting<int>
        {
            Key = "workers.max_requests", Flag = "--max-requests", Parser = ValueParsers.WholeNumber,
            Doc = "Recycle a worker gracefully after this many requests; 0 = never.",
            Get = s => s.MaxRequests, Set = (s, v) => s with { MaxRequests = v },
        },
        new TypedSetting<int>
        {
            Key = "workers.max_requests_jitter", Flag = "--max-requests-jitter", Parser = ValueParsers.WholeNumber,
            Doc = "Add up to this many requests at random to max_requests, so workers do not restart together.",
            Get = s => s.MaxRequestsJitter, Set = (s, v) => s with { MaxRequestsJitter = v },
        },
        new TypedSetting<long>
        {
            Key = "workers.max_memory", Flag = "--max-memory", Parser = ValueParsers.Size, TextParser = ValueParsers.SizeInMiB,
            Doc = "Recycle a worker gracefully (its replacement first, then it drains) once its private memory passes this: the pages no other process shares, which a leak grows and a restart gives back, read every 2 s. 0 = no limit. In the file a plain number is bytes; on the flag and in the environment it is MiB (--max-memory 512), and units work everywhere.",
            DefaultDoc = "0 (no limit)",
            Check = CheckMaxMemory,
            Get = s => s.MaxMemory, Set = (s, v) => s with { MaxMemory = v },
        },
        new TypedSetting<bool>
        {
            Key = "workers.preload", Flag = "--no-preload", Parser = ValueParsers.Boolean, TextParser = ValueParsers.NegatedBoolean,
            Doc = "Import the app once in a zygote that forks the workers (shared memory, fast respawn). `preload = false` in the file, or the flag --no-preload, imports it in each worker instead.",
            FlagDoc = "Import the app in each worker instead of once in a zygote that forks them: more memory and a slower start, for apps that cannot be forked after import. Off by default.",
            Get = s => s.Preload, Set = (s, v) => s with { Preload = v },
        },
        new TypedSetting<string>
        {
            Key = "workers.cpu_scheduling", Flag = "--cpu-scheduling", Placeholder = "POLICY", Parser = ValueParsers.Text,
            Doc = "Linux CPU policy of Tapster and its workers. \"batch\" (SCHED_BATCH): a process woken by another does not preempt it, so the server and its workers hand each request over without needless context switches (4-10% more requests/s here), at the same CPU share; threads under a policy set by chrt or systemd's CPUSchedulingPolicy= keep it. \"inherit\": keep the policy Tapster was started with.",
            Check = CpuScheduling.Check,
            Get = s => s.CpuScheduling, Set = (s, v) => s with { CpuScheduling = v },
        },
        new TypedSetting<int>
        {
            Key = "queue.size", Flag = "--queue-size", Parser = ValueParsers.WholeNumber,
            Doc = "Requests that may wait for a free worker; past it, 503 at once.",
            Get = s => s.QueueSize, Set = (s, v) => s with { QueueSize = v },
        },
        new TypedSetting<TimeSpan>
        {
            Key = "queue.timeout", Flag = "--queue-timeout", Parser = ValueParsers.Duration,
            Doc = "How long a request may wait for a free worker before 503.",
            Get = s => s.QueueTimeout, Set = (s, v) => s with { QueueTimeout = v },
        },
        .. LimitsSchema.Settings,
        .. HeaderSchema.Settings,
        .. CompressionSchema.Settings,
        .. StaticSchema.Settings,
        .. TlsSchema.Settings,
        .. ProxySchema.Settings,
        .. LogSchema.Settings,
    ];

    /// <summary>The setting at a TOML key path, or null.</summary>
    public static Setting? Find(string key) => All.FirstOrDefault(s => s.Key == key);

    /// <summary>
    /// Bounds far above any sane pool that keep a typo (an extra zero or three) from exhausting file
    /// descriptors and memory: each thread is two connections, each worker a process.
    /// </summary>
    private const int MaxWorkers = 1024, MaxThreads = 256;

    private static Func<int, string?> Between(int minimum, int maximum) => value =>
        value < minimum ? $"must be at least {minimum.ToString(CultureInfo.InvariantCulture)}, got {value.ToString(CultureInfo.InvariantCulture)}"
        : value > maximum ? $"must be at most {maximum.ToString(CultureInfo.InvariantCulture)}, got {value.ToString(CultureInfo.InvariantCulture)}"
        : null;

    /// <summary>Below this a limit is surely a mistake (bytes meant as MiB): a worker's interpreter alone holds several.</summary>
    private const long MinMaxMemory = 16L * 1024 * 1024;

    private static string? CheckMaxMemory(long value)
    {
        if (value is 0 or >= MinMaxMemory)
        {
            return null;
        }

        var size = ByteSize.Format(value);
        return value % 1024 == 0
            ? $"must be 0 (no limit) or at least 16 MiB, got {size}"
            : $"must be 0 (no limit) or at least 16 MiB, got {size} bytes (a plain number in the file is bytes: write \"{size}MiB\")";
    }

    private static string? CheckListen(IReadOnlyList<string> addresses)
    {
        if (addresses.Count == 0)
        {
            return "needs at least one address (for example 127.0.0.1:8000)";
        }

        foreach (var address in addresses)
        {
            if (!BindAddress.TryParse(address, out _, out var error))
            {
                return error;
            }
        }

        return null;
    }

    private static string? CheckScriptName(string value) =>
        value.Length > 0 && (!value.StartsWith('/') || value.EndsWith('/'))
            ? $"'{value}' must start with '/' and not end with one (e.g. /shop)"
            : null;
}

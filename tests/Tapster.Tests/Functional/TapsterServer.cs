using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Globalization;
using System.Text.Json;

namespace Tapster.Tests.Functional;

/// <summary>
/// A real <c>tapster serve</c> child process on a free port, for functional tests. Captures stdout and
/// stderr lines, waits until the app answers, and stops the server with SIGTERM on dispose.
/// </summary>
public sealed class TapsterServer : IAsyncDisposable
{
    public const string Python = "/usr/bin/python3";
    static readonly SemaphoreSlim BuildLock = new(1, 1);
    static bool built;

    readonly Process process;
    readonly List<string> stdout = [];
    readonly List<string> stderr = [];
    readonly object gate = new();
    bool disposed;

    TapsterServer(Process process, int port, string stateDir)
    {
        this.process = process;
        Port = port;
        StateDir = stateDir;
        BaseAddress = new Uri($"http://127.0.0.1:{port}");
        Client = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromSeconds(30) })
        {
            BaseAddress = BaseAddress,
            Timeout = TimeSpan.FromSeconds(60),
        };
    }

    public int Port { get; }
    public Uri BaseAddress { get; }
    public int Pid => process.Id;
    public string StateDir { get; }
    public HttpClient Client { get; }
    public bool HasExited => process.HasExited;

    bool Started
    {
        get
        {
            try { return process.Id > 0; }
            catch (InvalidOperationException) { return false; }
        }
    }

    public static string RepoRoot { get; } = FindRepoRoot();
    public static string TestAssets => Path.Combine(RepoRoot, "testassets");
    public static string Binary => Path.Combine(RepoRoot, ".build", "tapster", "tapster");

    public IReadOnlyList<string> StdoutLines { get { lock (gate) return [.. stdout]; } }
    public IReadOnlyList<string> StderrLines { get { lock (gate) return [.. stderr]; } }
    public string AllOutput { get { lock (gate) return string.Join('\n', stdout.Concat(stderr)); } }

    static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Tapster.slnx")))
                return dir.FullName;
        }
        throw new InvalidOperationException("Tapster.slnx not found above " + AppContext.BaseDirectory);
    }

    /// <summary>
    /// Runs the launcher once per test run (<c>tapster --version</c>): it builds the binary when it is
    /// missing or older than the sources, so the tests always run the current server.
    /// </summary>
    internal static async Task EnsureBuiltAsync()
    {
        if (built) return;
        await BuildLock.WaitAsync();
        try
        {
            if (built) return;
            var psi = new ProcessStartInfo(Path.Combine(RepoRoot, "tapster"), "--version")
            {
                RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
            };
            using var p = Process.Start(psi)!;
            var err = p.StandardError.ReadToEndAsync();
            var output = p.StandardOutput.ReadToEndAsync();
            using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(5));
            await p.WaitForExitAsync(cts.Token);
            Assert.True(p.ExitCode == 0 && File.Exists(Binary),
                $"the launcher did not build {Binary} (exit {p.ExitCode}):\n{await output}\n{await err}");
            built = true;
        }
        finally { BuildLock.Release(); }
    }

    /// <summary>
    /// A loopback TCP port nothing listens on, handed out once per test run, from the 10,000 below the
    /// kernel's ephemeral range. A port from bind(0) is an ephemeral one, which any outgoing connection
    /// (a test's client, pebble's validation) may take as its local port before the server binds it:
    /// CI once saw "address already in use" when a test restarted Tapster on its ports.
    /// </summary>
    public static int FreePort()
    {
        for (var tries = 0; tries < PortSpan; tries++)
        {
            var port = PortFloor + (int)((uint)Interlocked.Increment(ref lastPort) % PortSpan);
            try
            {
                var probe = new TcpListener(IPAddress.Loopback, port);
                probe.Start();
                probe.Stop();
                return port;
            }
            catch (SocketException)
            {
                // Taken by someone else on this machine: the next one.
            }
        }

        throw new InvalidOperationException($"no free port in {PortFloor}-{PortFloor + PortSpan - 1}");
    }

    const int PortSpan = 10_000;

    /// <summary>Below the first ephemeral port (/proc/sys/net/ipv4/ip_local_port_range, 32768 by default).</summary>
    static readonly int PortFloor = Math.Max(1024, EphemeralLow() - PortSpan);

    /// <summary>A random start, so two test runs on one machine rarely walk the same ports.</summary>
    static int lastPort = Random.Shared.Next(PortSpan);

    static int EphemeralLow()
    {
        try
        {
            var range = File.ReadAllText("/proc/sys/net/ipv4/ip_local_port_range").Split((char[])['\t', ' ', '\n'], StringSplitOptions.RemoveEmptyEntries);
            return int.Parse(range[0], CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return 32768;
        }
    }

    /// <summary>Starts <c>tapster serve</c> through <paramref name="launcher"/> (<c>nohup</c>), which execs it; waits until it is ready.</summary>
    public static async Task<TapsterServer> StartUnderAsync(string launcher, string app, params string[] flags) =>
        await ReadyAsync(await LaunchAsync(app, flags, null, addPython: true, launcher));

    public static async Task<TapsterServer> StartUnderAsync(string launcher, string app, IDictionary<string, string> env, params string[] flags) =>
        await ReadyAsync(await LaunchAsync(app, flags, env, addPython: true, launcher));

    static async Task<TapsterServer> LaunchAsync(string app, string[] flags, IDictionary<string, string>? env, bool addPython, string? launcher = null)
    {
        await EnsureBuiltAsync();
        var port = FreePort();
        var stateDir = Directory.CreateTempSubdirectory("tapster-ft-").FullName;
        var psi = new ProcessStartInfo(launcher ?? Binary)
        {
            WorkingDirectory = TestAssets,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        if (launcher is not null)
        {
            psi.ArgumentList.Add(Binary);
        }

        psi.ArgumentList.Add("serve");
        psi.ArgumentList.Add("--bind");
        psi.ArgumentList.Add($"127.0.0.1:{port}");
        if (addPython && !flags.Contains("--python"))
        {
            psi.ArgumentList.Add("--python");
            psi.ArgumentList.Add(Python);
        }
        foreach (var f in flags) psi.ArgumentList.Add(f);
        psi.ArgumentList.Add(app);
        psi.Environment["PROBE_STATE_DIR"] = stateDir;
        psi.Environment["PYTHONUNBUFFERED"] = "1";
        if (env is not null)
            foreach (var (k, v) in env) psi.Environment[k] = v;

        var process = new Process { StartInfo = psi, EnableRaisingEvents = true };
        var server = new TapsterServer(process, port, stateDir);
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (server.gate) server.stdout.Add(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (server.gate) server.stderr.Add(e.Data); };
        try
        {
            process.Start();
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return server;
    }

    /// <summary>Starts <c>tapster serve APP FLAGS</c> and waits (60 s at most) until GET / or /health answers.</summary>
    public static Task<TapsterServer> StartAsync(string app, params string[] flags) => StartAsync(app, null, flags);

    public static async Task<TapsterServer> StartAsync(string app, IDictionary<string, string>? env, params string[] flags) =>
        await ReadyAsync(await LaunchAsync(app, flags, env, addPython: true));

    /// <summary>The launched server once it answers (60 s at most); stopped if it never does.</summary>
    static async Task<TapsterServer> ReadyAsync(TapsterServer server)
    {
        try
        {
            await server.WaitUntilReadyAsync(TimeSpan.FromSeconds(60));
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    async Task WaitUntilReadyAsync(TimeSpan timeout)
    {
        // Redirects not followed: with TLS on, the plain port answers 308 to HTTPS, which means ready.
        using var probe = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false }) { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(5) };
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < timeout)
        {
            if (process.HasExited)
                throw new InvalidOperationException($"tapster exited with {process.ExitCode} before it was ready:\n{AllOutput}");
            foreach (var path in new[] { "/health", "/" })
            {
                try
                {
                    using var r = await probe.GetAsync(path);
                    if ((int)r.StatusCode < 500) return;
                }
                catch (HttpRequestException) { }
                catch (TaskCanceledException) { }
            }
            await Task.Delay(100);
        }
        throw new TimeoutException($"tapster was not ready within {timeout}:\n{AllOutput}");
    }

    /// <summary>Starts <c>tapster serve</c> without waiting for it to serve (to signal it while it boots).</summary>
    public static Task<TapsterServer> LaunchUnreadyAsync(string app, params string[] flags) => LaunchAsync(app, flags, null, addPython: true);

    /// <summary>Runs <c>tapster serve</c> expecting it to exit on its own (boot failures).</summary>
    public static async Task<(int ExitCode, string Stdout, string Stderr, TimeSpan Elapsed)> StartExpectingExitAsync(
        string app, string[] flags, bool addPython = true, TimeSpan? timeout = null)
    {
        var server = await LaunchAsync(app, flags, null, addPython);
        var sw = Stopwatch.StartNew();
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(60));
        try
        {
            await server.process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            var output = server.AllOutput;
            await server.DisposeAsync();
            throw new Xunit.Sdk.XunitException($"tapster did not exit within {timeout ?? TimeSpan.FromSeconds(60)} (respawning?):\n{output}");
        }
        var elapsed = sw.Elapsed;
        server.process.WaitForExit(); // flush the async readers
        var code = server.process.ExitCode;
        var result = (code, string.Join('\n', server.StdoutLines), string.Join('\n', server.StderrLines), elapsed);
        await server.DisposeAsync();
        return result;
    }

    /// <summary>Waits until a captured line (stdout or stderr) satisfies the predicate.</summary>
    public async Task<string> WaitForLogAsync(Func<string, bool> predicate, TimeSpan timeout)
    {
        var sw = Stopwatch.StartNew();
        while (true)
        {
            string? hit;
            lock (gate) hit = stdout.Concat(stderr).FirstOrDefault(predicate);
            if (hit is not null) return hit;
            if (sw.Elapsed > timeout)
                throw new TimeoutException($"no log line matched within {timeout}:\n{AllOutput}");
            await Task.Delay(50);
        }
    }

    /// <summary>Waits until a JSON log event satisfies the predicate.</summary>
    public async Task<JsonElement> WaitForEventAsync(Func<JsonElement, bool> predicate, TimeSpan timeout)
    {
        var sw = Stopwatch.StartNew();
        while (true)
        {
            var hit = Events().Where(predicate).Select(e => (JsonElement?)e).FirstOrDefault();
            if (hit is { } h) return h;
            if (sw.Elapsed > timeout)
                throw new TimeoutException($"no log event matched within {timeout}:\n{AllOutput}");
            await Task.Delay(50);
        }
    }

    /// <summary>Every stdout line that parses as a JSON object.</summary>
    public List<JsonElement> Events()
    {
        var result = new List<JsonElement>();
        foreach (var line in StdoutLines)
        {
            if (!line.StartsWith('{')) continue;
            try
            {
                using var doc = JsonDocument.Parse(line);
                if (doc.RootElement.ValueKind == JsonValueKind.Object) result.Add(doc.RootElement.Clone());
            }
            catch (JsonException) { }
        }
        return result;
    }

    public List<JsonElement> Events(string name) =>
        Events().Where(e => e.TryGetProperty("event", out var ev) && ev.GetString() == name).ToList();

    public void SendSigterm() => SendSignal("TERM");

    /// <summary>Sends <paramref name="signal"/> (TERM, HUP, ...) to the Tapster process alone.</summary>
    public void SendSignal(string signal)
    {
        if (process.HasExited) return;
        using var kill = Process.Start(new ProcessStartInfo("kill", [$"-{signal}", process.Id.ToString(CultureInfo.InvariantCulture)])
        {
            UseShellExecute = false,
        })!;
        kill.WaitForExit(10_000);
    }

    /// <summary>
    /// Sends <paramref name="signal"/> to Tapster and every process under it in one go, as systemd's
    /// KillMode=control-group or Ctrl-C at a terminal (the whole process group) do.
    /// </summary>
    public void SignalProcessTree(string signal)
    {
        var tree = ProcessTree();
        using var kill = Process.Start(new ProcessStartInfo("kill", [$"-{signal}", .. tree.Select(p => p.ToString(CultureInfo.InvariantCulture))])
        {
            UseShellExecute = false,
        })!;
        kill.WaitForExit(10_000);
    }

    /// <summary>Tapster's pid and those of every process under it (zygote, workers).</summary>
    public List<int> ProcessTree()
    {
        var tree = new List<int> { process.Id };
        for (var i = 0; i < tree.Count; i++)
        {
            foreach (var dir in Directory.GetDirectories("/proc"))
            {
                if (int.TryParse(Path.GetFileName(dir), out var pid) && ParentOf(pid) == tree[i])
                {
                    tree.Add(pid);
                }
            }
        }

        return tree;
    }

    private static int ParentOf(int pid)
    {
        try
        {
            // /proc/<pid>/stat: "pid (comm) state ppid ..."; comm may hold spaces, so split after ')'.
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return int.Parse(fields[1], CultureInfo.InvariantCulture);
        }
        catch (IOException)
        {
            return -1;
        }
    }

    /// <summary>Waits for the process to exit; returns its exit code, or null on timeout.</summary>
    public async Task<int?> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
            process.WaitForExit();
            return process.ExitCode;
        }
        catch (OperationCanceledException) { return null; }
    }

    public async ValueTask DisposeAsync()
    {
        if (disposed) return;
        disposed = true;
        Client.Dispose();
        try
        {
            if (Started && !process.HasExited)
            {
                SendSigterm();
                if (await WaitForExitAsync(TimeSpan.FromSeconds(15)) is null)
                    process.Kill(entireProcessTree: true);
            }
        }
        catch (InvalidOperationException) { }
        process.Dispose();
        try { Directory.Delete(StateDir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

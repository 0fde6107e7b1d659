using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace Tapster.Tests.Functional;

[Collection(FunctionalGroup.Name)]
public sealed class ConfigTests : IDisposable
{
    readonly string dir = Directory.CreateTempSubdirectory("tapster-config-ft-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    string WriteConfig(string toml, string name = "tapster.toml")
    {
        var path = Path.Combine(dir, name);
        File.WriteAllText(path, toml);
        return path;
    }

    /// <summary>Runs the built binary to completion (config commands, or a serve expected to refuse).</summary>
    static Task<ProcessRun.Result> RunAsync(string workingDirectory, IDictionary<string, string>? env, params string[] args) =>
        ProcessRun.RunAsync(TapsterServer.Binary, workingDirectory, args, env);

    [Fact]
    public async Task Workers_and_threads_come_from_tapster_toml()
    {
        var config = WriteConfig("[workers]\ncount = 2\nthreads = 3\n");
        await using var server = await TapsterServer.StartAsync("probe:app", new Dictionary<string, string> { ["TAPSTER_CONFIG"] = config });
        await server.WaitForLogAsync(l => l.Contains("with 2 workers x 3 threads", StringComparison.Ordinal), Http.Short);
        var pids = new HashSet<string>();
        for (var i = 0; i < 40 && pids.Count < 2; i++)
        {
            var tasks = Enumerable.Range(0, 6).Select(_ => server.Client.GetTextAsync("/threads?s=0.05"));
            foreach (var body in await Task.WhenAll(tasks))
                pids.Add(JsonDocument.Parse(body).RootElement.GetProperty("pid").GetInt32().ToString(CultureInfo.InvariantCulture));
        }
        Assert.Equal(2, pids.Count);
    }

    [Fact]
    public async Task A_path_app_started_from_elsewhere_takes_the_tapster_toml_beside_it_and_says_so()
    {
        var project = Directory.CreateDirectory(Path.Combine(dir, "project")).FullName;
        File.Copy(Path.Combine(TapsterServer.TestAssets, "plain_wsgi.py"), Path.Combine(project, "plain_wsgi.py"));
        File.WriteAllText(Path.Combine(project, "tapster.toml"), "[workers]\ncount = 1\nthreads = 3\n");

        // The server's working directory is the test assets; the app is named by its absolute path.
        await using var server = await TapsterServer.StartAsync(Path.Combine(project, "plain_wsgi.py"));

        var configured = await server.WaitForEventAsync(e => e.Str("event") == "server.configured", Http.Short);
        Assert.Equal(project, configured.Str("directory"));
        Assert.Equal($"config {Path.Combine(project, "tapster.toml")}", configured.Str("config"));
        Assert.Equal($"no secrets file ({Path.Combine(project, ".tapster", "secrets.enc")})", configured.Str("secrets"));
        await server.WaitForLogAsync(l => l.Contains("with 1 workers x 3 threads", StringComparison.Ordinal), Http.Short);
    }

    [Fact]
    public async Task The_listen_addresses_come_from_tapster_toml()
    {
        var port = TapsterServer.FreePort();
        WriteConfig($"""
            app = "probe:app"
            chdir = "{TapsterServer.TestAssets}"
            python = "{TapsterServer.Python}"
            [http]
            listen = ["127.0.0.1:{port}"]
            [workers]
            count = 1
            """);
        var psi = new ProcessStartInfo(TapsterServer.Binary, ["serve"])
        {
            WorkingDirectory = dir, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        using var process = Process.Start(psi)!;
        _ = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        try
        {
            using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(5) };
            var deadline = Stopwatch.StartNew();
            string? pid = null;
            while (pid is null && deadline.Elapsed < Http.Long && !process.HasExited)
            {
                try { pid = await client.GetStringAsync("/pid"); }
                catch (HttpRequestException) { await Task.Delay(100); }
            }
            Assert.True(pid is not null, $"nothing answered on port {port} from tapster.toml's listen");
            Assert.True(int.TryParse(pid, out _), pid);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
            await process.WaitForExitAsync();
        }
        Assert.DoesNotContain("error", await stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_flag_beats_the_environment_which_beats_the_file()
    {
        var config = WriteConfig("[workers]\ncount = 3\nthreads = 1\n");
        await using var server = await TapsterServer.StartAsync("probe:app",
            new Dictionary<string, string> { ["TAPSTER_CONFIG"] = config, ["TAPSTER_WORKERS"] = "2", ["TAPSTER_THREADS"] = "2" },
            "--workers", "1");
        await server.WaitForLogAsync(l => l.Contains("with 1 workers x 2 threads", StringComparison.Ordinal), Http.Short);
    }

    [Fact]
    public async Task Config_check_on_a_bad_file_prints_every_error_with_its_location_and_exits_2()
    {
        WriteConfig("""
            wokers = 3
            [workers]
            threads = 0
            timeout = "soon"
            [limits]
            max_body_size = "lots"
            """);
        var (code, stdout, stderr) = await RunAsync(dir, null, "config", "check");
        Assert.True(code == 2, $"exit {code}\n{stdout}\n{stderr}");
        var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(
            [
                "tapster: error: tapster.toml:1:1: unknown key 'wokers' (did you mean 'workers.count'?)",
                "tapster: error: tapster.toml:3:11: workers.threads must be at least 1, got 0",
                "tapster: error: tapster.toml:4:11: workers.timeout 'soon' is not a duration (use seconds, or 500ms, 30s, 5m)",
                "tapster: error: tapster.toml:6:17: limits.max_body_size 'lots' is not a size (use 512KB, 10MB, 100MiB, 1GiB; a plain number is bytes)",
            ],
            lines);
    }

    [Fact]
    public async Task Serve_with_a_bad_file_starts_nothing_and_exits_2()
    {
        var config = WriteConfig("[workers]\ncount = \"many\"\n");
        var (code, stdout, stderr, _) = await TapsterServer.StartExpectingExitAsync("probe:app", ["--config", config]);
        Assert.True(code == 2, $"exit {code}\n{stdout}\n{stderr}");
        Assert.Contains($"{config}:2:9: workers.count must be a whole number or \"auto\"", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("zygote", stdout, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(":app", "is not module:callable")]
    [InlineData("--python=/nonexistent/python3", "is not an executable file")]
    [InlineData("--chdir=/nonexistent", "is not a directory")]
    [InlineData("--static=/s=/", "is the root of the file system")]
    public async Task Config_check_refuses_what_serve_would_refuse_before_starting_Python(string argument, string message)
    {
        File.Copy(Path.Combine(TapsterServer.TestAssets, "probe.py"), Path.Combine(dir, "probe.py"));
        string[] args = argument.StartsWith("--", StringComparison.Ordinal) ? ["config", "check", "probe:app", argument] : ["config", "check", argument];

        var (code, stdout, stderr) = await RunAsync(dir, null, args);

        Assert.True(code == 2, $"exit {code}\n{stdout}\n{stderr}");
        Assert.Contains(message, Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_switch_given_as_false_still_overrides_the_environment()
    {
        var (code, stdout, stderr) = await RunAsync(dir, new Dictionary<string, string> { ["TAPSTER_NO_PRELOAD"] = "1" }, "config", "show", "--no-preload=false");

        Assert.True(code == 0, $"exit {code}\n{stderr}");
        var line = stdout.Split('\n').Single(l => l.StartsWith("workers.preload", StringComparison.Ordinal));
        Assert.Matches(@"^workers\.preload = true +# flag --no-preload$", line);
    }

    [Fact]
    public async Task Malformed_toml_is_one_error_naming_the_file_line_and_column()
    {
        WriteConfig("[workers]\ncount = = 3\n");
        var (code, _, stderr) = await RunAsync(dir, null, "config", "check");
        Assert.Equal(2, code);
        var line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("tapster: error: tapster.toml:2:", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Config_show_prints_each_source_and_masks_a_secret_looking_env_value()
    {
        WriteConfig("[workers]\nthreads = 3\n[env]\nSTRIPE_SECRET_KEY = \"sk_live_4242\"\nREGION = \"eu\"\n");
        File.WriteAllText(Path.Combine(dir, "wsgi.py"), "app = None\n");
        var (code, stdout, stderr) = await RunAsync(dir, new Dictionary<string, string> { ["TAPSTER_QUEUE_SIZE"] = "7" }, "config", "show", "--workers", "5");
        Assert.True(code == 0, $"exit {code}\n{stderr}");
        Assert.DoesNotContain("sk_live_4242", stdout, StringComparison.Ordinal);
        var lines = stdout.Split('\n').Select(l => System.Text.RegularExpressions.Regex.Replace(l, " +", " ")).ToList();
        Assert.Contains("env.STRIPE_SECRET_KEY = \"********\" # tapster.toml:4", lines);
        Assert.Contains("env.REGION = \"eu\" # tapster.toml:5", lines);
        Assert.Contains("workers.threads = 3 # tapster.toml:2", lines);
        Assert.Contains("workers.count = 5 # flag --workers", lines);
        Assert.Contains("queue.size = 7 # env TAPSTER_QUEUE_SIZE", lines);
        Assert.Contains("workers.timeout = \"30s\" # default", lines);
        Assert.Contains(lines, l => l.StartsWith("# python unset: tried in this order until one imports the app: ", StringComparison.Ordinal) && l.Contains("/usr/bin/python3", StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_env_value_and_a_NAME_FILE_secret_reach_the_app()
    {
        File.WriteAllText(Path.Combine(dir, "db_password"), "hunter2\n");
        File.WriteAllText(Path.Combine(dir, ".env.production"), "FROM_DOTENV=dotenv\n");
        var config = WriteConfig("""
            env_files = [".env.production"]
            [env]
            GREETING = "hello"
            WORKERS_HINT = 4
            DB_PASSWORD_FILE = "db_password"
            """);
        await using var server = await TapsterServer.StartAsync("envprobe:app",
            new Dictionary<string, string> { ["TAPSTER_CONFIG"] = config }, "--workers", "1");
        var env = await server.Client.GetJsonAsync("/?k=GREETING&k=WORKERS_HINT&k=FROM_DOTENV&k=DB_PASSWORD&k=DB_PASSWORD_FILE");
        Assert.Equal("hello", env.Str("GREETING"));
        Assert.Equal("4", env.Str("WORKERS_HINT"));
        Assert.Equal("dotenv", env.Str("FROM_DOTENV"));
        Assert.Equal("hunter2", env.Str("DB_PASSWORD"));
        Assert.Equal(JsonValueKind.Null, env.GetProperty("DB_PASSWORD_FILE").ValueKind);
    }

    [Fact]
    public async Task SIGHUP_gives_the_new_workers_the_environment_the_files_and_the_secrets_hold_now()
    {
        File.Copy(Path.Combine(TapsterServer.TestAssets, "envprobe.py"), Path.Combine(dir, "envprobe.py"));
        const string Config = "env_files = [\".env\"]\n[env]\nGREETING = \"{0}\"\n";
        WriteConfig(string.Format(CultureInfo.InvariantCulture, Config, "hello"));
        File.WriteAllText(Path.Combine(dir, ".env"), "FROM_DOTENV=one\nDROPPED=x\n");
        // The master key in the environment, which Tapster takes out of its own at start: a reload must still open the secrets.
        var key = new Dictionary<string, string> { ["TAPSTER_MASTER_KEY"] = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)) };
        await SetSecretAsync("API_KEY", "key-one-1234", key);
        await using var server = await TapsterServer.StartAsync("envprobe:app", key, "--chdir", dir, "--workers", "1", "--threads", "1");
        const string Query = "/?k=GREETING&k=FROM_DOTENV&k=DROPPED&k=API_KEY";
        var before = await server.Client.GetJsonAsync(Query);
        Assert.Equal(["hello", "one", "x", "key-one-1234"], ProbedNames.Select(k => before.Str(k)));

        // A deploy edits the config and the .env file and rotates the secret, then reloads.
        WriteConfig(string.Format(CultureInfo.InvariantCulture, Config, "hi"));
        File.WriteAllText(Path.Combine(dir, ".env"), "FROM_DOTENV=two\n");
        await SetSecretAsync("API_KEY", "key-two-5678", key);
        server.SendSignal("HUP");
        var differences = await server.WaitForEventAsync(e => e.Str("event") == "reload.environment", Http.Short);
        Assert.Equal(("none", "DROPPED", "API_KEY, FROM_DOTENV, GREETING"), (differences.Str("added"), differences.Str("removed"), differences.Str("changed")));
        await server.WaitForEventAsync(_ => server.Events("worker.retired").Count >= 1, Http.Short);
        var after = await server.Client.GetJsonAsync(Query);
        Assert.Equal(["hi", "two", null, "key-two-5678"], ProbedNames.Select(k => after.Str(k)));

        // The new value is masked in the log like the old one.
        await server.Client.GetJsonAsync("/?print=API_KEY");
        await server.WaitForLogAsync(l => l.Contains("API_KEY=[redacted API_KEY]", StringComparison.Ordinal), Http.Short);
        Assert.DoesNotContain("key-two-5678", server.AllOutput, StringComparison.Ordinal);

        // A setting of Tapster's own is named as needing a restart; the environment is still applied.
        WriteConfig(string.Format(CultureInfo.InvariantCulture, Config, "hey") + "[workers]\ntimeout = \"10s\"\n");
        server.SendSignal("HUP");
        var restart = await server.WaitForEventAsync(e => e.Str("event") == "reload.restart_needed", Http.Short);
        Assert.StartsWith("SIGHUP: workers.timeout changed", restart.Str("message"), StringComparison.Ordinal);
        await server.WaitForEventAsync(_ => server.Events("worker.retired").Count >= 2, Http.Short);
        Assert.Equal("hey", (await server.Client.GetJsonAsync(Query)).Str("GREETING"));

        // A configuration with a mistake reloads nothing: no worker is replaced.
        WriteConfig("[workers]\nthreads = 0\n");
        server.SendSignal("HUP");
        var invalid = await server.WaitForEventAsync(e => e.Str("event") == "reload.config_invalid", Http.Short);
        Assert.Contains("workers.threads must be at least 1", invalid.Str("message"), StringComparison.Ordinal);
        Assert.Equal("hey", (await server.Client.GetJsonAsync(Query)).Str("GREETING"));
        Assert.Equal(2, server.Events("worker.retired").Count);
        Assert.Equal(2, server.Events("workers.reloading").Count);
    }

    static readonly string[] ProbedNames = ["GREETING", "FROM_DOTENV", "DROPPED", "API_KEY"];

    async Task SetSecretAsync(string name, string value, IDictionary<string, string> env)
    {
        var set = await ProcessRun.RunAsync(TapsterServer.Binary, dir, ["secrets", "set", name], env,
            unset: ["TAPSTER_MASTER_KEY_FILE", "TAPSTER_SECRETS_FILE", "CREDENTIALS_DIRECTORY"], stdin: value);
        Assert.True(set.Code == 0, set.Stderr);
    }
}

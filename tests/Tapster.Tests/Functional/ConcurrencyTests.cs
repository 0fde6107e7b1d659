using System.Diagnostics;
using System.Globalization;
using System.Net;

namespace Tapster.Tests.Functional;

[Collection(FunctionalGroup.Name)]
public class ConcurrencyTests
{
    [Fact]
    public async Task Past_the_queue_size_a_request_gets_503_with_Retry_After_at_once()
    {
        await using var server = await TapsterServer.StartAsync("probe:app", "--workers", "1", "--threads", "1", "--queue-size", "1");
        var holder = server.Client.GetAsync("/slow?s=3");
        await Task.Delay(500); // let the holder reach the only slot (nothing to observe from outside)
        var queued = server.Client.GetAsync("/slow?s=0");
        await Task.Delay(300); // let it enter the queue
        Assert.False(holder.IsCompleted || queued.IsCompleted, "the slot was not held");
        var sw = Stopwatch.StartNew();
        using (var r = await server.Client.GetAsync("/"))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, r.StatusCode);
            Assert.True(sw.Elapsed < TimeSpan.FromSeconds(1), $"503 after {sw.Elapsed}: not at once");
            Assert.False(string.IsNullOrEmpty(r.Header("Retry-After")), "no Retry-After");
        }
        using var h = await holder;
        using var q = await queued;
        Assert.Equal(HttpStatusCode.OK, h.StatusCode);
        Assert.Equal(HttpStatusCode.OK, q.StatusCode);
    }

    [Fact]
    public async Task A_request_queued_longer_than_the_queue_timeout_gets_503()
    {
        await using var server = await TapsterServer.StartAsync("probe:app", "--workers", "1", "--threads", "1", "--queue-timeout", "1");
        var holder = server.Client.GetAsync("/slow?s=4");
        await Task.Delay(500); // let the holder reach the only slot
        var sw = Stopwatch.StartNew();
        using (var r = await server.Client.GetAsync("/"))
        {
            var elapsed = sw.Elapsed;
            Assert.Equal(HttpStatusCode.ServiceUnavailable, r.StatusCode);
            Assert.True(elapsed > TimeSpan.FromSeconds(0.7) && elapsed < TimeSpan.FromSeconds(2.5), $"503 after {elapsed}");
        }
        using var h = await holder;
        Assert.Equal(HttpStatusCode.OK, h.StatusCode);
    }

    [Fact]
    public async Task A_client_that_disconnects_while_queued_is_never_run()
    {
        await using var server = await TapsterServer.StartAsync("probe:app", "--workers", "1", "--threads", "1");
        var holder = server.Client.GetAsync("/slow?s=2");
        await Task.Delay(500); // let the holder reach the only slot
        using (var raw = await RawHttp.ConnectAsync(server.Port))
        {
            await raw.SendAsync(RawHttp.Get("/print?q=ghost-XYZ"));
            await Task.Delay(100);
        } // closed while queued behind the holder
        using (var h = await holder)
            Assert.Equal(HttpStatusCode.OK, h.StatusCode);
        Assert.Equal("printed", await server.Client.GetTextAsync("/print?q=after-ghost"));
        await server.WaitForLogAsync(l => l.Contains("stdout-marker-after-ghost", StringComparison.Ordinal), Http.Short);
        Assert.DoesNotContain("ghost-XYZ", server.AllOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Threads_of_one_worker_run_requests_at_the_same_time()
    {
        await using var server = await TapsterServer.StartAsync("probe:app", "--workers", "1", "--threads", "4");
        var results = await Task.WhenAll(server.Client.GetJsonAsync("/threads?s=1"), server.Client.GetJsonAsync("/threads?s=1"));
        Assert.Equal(results[0].GetProperty("pid").GetInt32(), results[1].GetProperty("pid").GetInt32());
        Assert.NotEqual(results[0].GetProperty("thread").GetInt64(), results[1].GetProperty("thread").GetInt64());
        // Each ran while the other did (the worker's own clock, so a slow machine cannot fail it).
        double At(int i, string name) => results[i].GetProperty(name).GetDouble();
        Assert.True(At(0, "start") < At(1, "end") && At(1, "start") < At(0, "end"), $"not concurrent: {results[0]} then {results[1]}");
    }

    [Fact]
    public async Task Max_requests_recycles_workers_without_failing_a_request()
    {
        await using var server = await TapsterServer.StartAsync("probe:app", "--workers", "1", "--threads", "1", "--max-requests", "5");
        var pids = new List<string>();
        for (var i = 0; i < 20; i++)
        {
            using var r = await server.Client.GetAsync("/pid");
            Assert.True(r.StatusCode == HttpStatusCode.OK, $"request {i} -> {(int)r.StatusCode}");
            pids.Add(await r.Content.ReadAsStringAsync());
        }
        Assert.True(pids.Distinct().Count() >= 2, $"pids: {string.Join(",", pids)}");
    }

    [Fact]
    public async Task SIGTERM_lets_requests_in_flight_finish_and_exits_0()
    {
        await using var server = await TapsterServer.StartAsync("probe:app", "--workers", "2", "--threads", "4", "--graceful-timeout", "10");
        var requests = Enumerable.Range(0, 6).Select(_ => server.Client.GetAsync("/slow?s=1.5")).ToList();
        await Task.Delay(500); // the 6 requests are in the app by now (1.5 s each); nothing to observe from outside
        Assert.DoesNotContain(requests, t => t.IsCompleted);
        server.SendSigterm();
        // Said at the signal, while the requests still run.
        var stopping = await server.WaitForEventAsync(e => e.Str("event") == "server.stopping", Http.Short);
        Assert.Contains("10s", stopping.Str("message"), StringComparison.Ordinal);
        Assert.DoesNotContain(server.Events("access"), e => e.Str("path") == "/slow");
        foreach (var t in requests)
        {
            using var r = await t;
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
            Assert.Equal("slow done", await r.Content.ReadAsStringAsync());
        }
        var code = await server.WaitForExitAsync(TimeSpan.FromSeconds(15));
        Assert.True(code == 0, $"exit code {code?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none (still running)"}\n{server.AllOutput}");
    }

    [Theory]
    [InlineData("TERM")]
    [InlineData("INT")]
    public async Task A_stop_signal_to_every_process_at_once_still_lets_requests_in_flight_finish(string signal)
    {
        // Two slots, four requests: two run, two wait in Tapster's queue and must still be served.
        await using var server = await TapsterServer.StartAsync("probe:app", "--workers", "2", "--threads", "1", "--graceful-timeout", "10");
        var requests = Enumerable.Range(0, 4).Select(_ => server.Client.GetAsync("/slow?s=1")).ToList();
        await Task.Delay(500); // two are in the app by now (1 s each), two queued; nothing to observe from outside
        Assert.DoesNotContain(requests, t => t.IsCompleted);

        server.SignalProcessTree(signal);

        foreach (var t in requests)
        {
            using var r = await t;
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        }

        var code = await server.WaitForExitAsync(TimeSpan.FromSeconds(15));
        Assert.True(code == 0, $"exit code {code?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none (still running)"}\n{server.AllOutput}");
    }
    [Theory]
    [InlineData("TERM")]
    [InlineData("INT")]
    public async Task A_second_stop_signal_during_the_grace_stops_at_once_and_cuts_off_the_request_in_flight(string signal)
    {
        await using var server = await TapsterServer.StartAsync("probe:app", "--workers", "1", "--threads", "1", "--graceful-timeout", "120");
        // The first chunk proves the request is in the app, which then sleeps far past the test's waits.
        using var response = await server.Client.GetAsync("/stream?n=2&delay=120", HttpCompletionOption.ResponseHeadersRead);
        using var body = new StreamReader(await response.Content.ReadAsStreamAsync());
        Assert.Equal("chunk0", await body.ReadLineAsync());

        server.SendSignal(signal);
        var stopping = await server.WaitForEventAsync(e => e.Str("event") == "server.stopping", Http.Short);
        Assert.Contains("signal again to stop at once", stopping.Str("message"), StringComparison.Ordinal);
        server.SendSignal(signal);
        await server.WaitForEventAsync(e => e.Str("event") == "server.stopping_now", Http.Short);

        // Far less than the 120 s grace the first signal granted.
        var code = await server.WaitForExitAsync(TimeSpan.FromSeconds(15));
        Assert.True(code == 0, $"exit code {code?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none (still running)"}\n{server.AllOutput}");
        await Assert.ThrowsAnyAsync<IOException>(() => body.ReadToEndAsync());
    }

    [Fact]
    public async Task A_request_still_running_when_the_grace_ends_is_logged_as_cut_off_not_as_left_by_its_client()
    {
        await using var server = await TapsterServer.StartAsync("probe:app", "--workers", "1", "--threads", "1", "--graceful-timeout", "1");
        var slow = server.Client.GetAsync("/slow?s=60");
        await Task.Delay(500); // the request is in the app by now; nothing to observe from outside

        server.SendSigterm();

        var code = await server.WaitForExitAsync(TimeSpan.FromSeconds(15));
        Assert.True(code == 0, $"exit code {code?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none (still running)"}\n{server.AllOutput}");
        await Assert.ThrowsAnyAsync<HttpRequestException>(() => slow);
        var access = Assert.Single(server.Events("access"), e => e.Str("path") == "/slow");
        Assert.Equal(503, access.GetProperty("status").GetInt32());
        Assert.Equal(1, Assert.Single(server.Events("server.requests_cut_off")).GetProperty("count").GetInt32());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task SIGHUP_replaces_every_worker_without_failing_a_request(bool wholeProcessTree)
    {
        await using var server = await TapsterServer.StartAsync("probe:app", "--workers", "2", "--threads", "2");
        await server.WaitForEventAsync(_ => server.Events("worker.ready").Count >= 2, Http.Short);
        var oldPids = ReadyPids(server);
        var requests = Enumerable.Range(0, 2).Select(_ => server.Client.GetAsync("/slow?s=1")).ToList();
        await Task.Delay(300); // both are in the app by now (1 s each); nothing to observe from outside

        // kill -HUP (systemd's ExecReload), or the whole process group as a closed terminal sends it.
        if (wholeProcessTree)
            server.SignalProcessTree("HUP");
        else
            server.SendSignal("HUP");

        foreach (var t in requests)
        {
            using var r = await t;
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        }
        await server.WaitForEventAsync(_ => server.Events("worker.retired").Count >= 2, Http.Short);
        var newPids = ReadyPids(server).Except(oldPids).ToHashSet();
        Assert.Equal(2, newPids.Count);
        for (var i = 0; i < 6; i++)
            Assert.Contains(int.Parse(await server.Client.GetTextAsync("/pid"), CultureInfo.InvariantCulture), newPids);
        Assert.Empty(server.Events("worker.crashed"));
    }

    [Fact]
    public async Task SIGHUP_without_preload_serves_the_apps_new_code_and_keeps_the_old_when_the_new_cannot_load()
    {
        using var deploy = new VersionedApp();
        static string App(string body) =>
            $"def app(environ, start_response):\n    start_response('200 OK', [('Content-Type', 'text/plain')])\n    return [b'{body}']\n";
        await deploy.WriteAsync(App("first"));
        await using var server = await TapsterServer.StartAsync("versioned:app", "--chdir", deploy.Directory, "--workers", "1", "--threads", "1", "--no-preload");
        Assert.Equal("first", await server.Client.GetTextAsync("/"));

        await deploy.WriteAsync(App("second version"));
        server.SendSignal("HUP");
        await server.WaitForEventAsync(_ => server.Events("worker.retired").Count >= 1, Http.Short);
        Assert.Equal("second version", await server.Client.GetTextAsync("/"));

        // A deploy that breaks the import: the new worker fails to load, the serving one stays.
        await deploy.WriteAsync("raise RuntimeError('broken-deploy-7')\n");
        server.SendSignal("HUP");
        await server.WaitForLogAsync(l => l.Contains("broken-deploy-7", StringComparison.Ordinal), Http.Short);
        Assert.Equal("second version", await server.Client.GetTextAsync("/"));
        Assert.Single(server.Events("worker.retired"));
    }

    [Fact]
    public async Task SIGHUP_with_preload_serves_the_apps_new_code_from_a_new_zygote_and_keeps_the_old_when_the_new_cannot_load()
    {
        using var deploy = new VersionedApp();
        static string App(string body) =>
            "import os\n" +
            "def app(environ, start_response):\n" +
            "    if environ['PATH_INFO'] == '/crash':\n        os._exit(1)\n" +
            $"    start_response('200 OK', [('Content-Type', 'text/plain')])\n    return [b'{body}']\n";
        await deploy.WriteAsync(App("first"));
        await using var server = await TapsterServer.StartAsync("versioned:app", "--chdir", deploy.Directory, "--workers", "2", "--threads", "1");
        Assert.Equal("first", await server.Client.GetTextAsync("/"));
        var firstZygote = (await server.WaitForEventAsync(e => e.Str("event") == "zygote.starting", Http.Short)).GetProperty("pid").GetInt32();

        // A deploy that breaks the import: the new zygote cannot load it, the old one and its workers serve on.
        await deploy.WriteAsync("raise RuntimeError('broken-deploy-9')\n");
        server.SendSignal("HUP");
        var failed = await server.WaitForEventAsync(e => e.Str("event") == "reload.failed", Http.Short);
        Assert.Contains("broken-deploy-9", failed.Str("traceback"), StringComparison.Ordinal);
        for (var i = 0; i < 4; i++)
        {
            Assert.Equal("first", await server.Client.GetTextAsync("/"));
        }

        Assert.Empty(server.Events("worker.retired"));

        // A worker that dies now is replaced from the old zygote, with the code that loaded.
        using (var crashed = await server.Client.GetAsync("/crash"))
        {
            Assert.Equal(HttpStatusCode.BadGateway, crashed.StatusCode);
        }
        await server.WaitForEventAsync(_ => server.Events("worker.ready").Count >= 3, Http.Short);
        for (var i = 0; i < 4; i++)
        {
            Assert.Equal("first", await server.Client.GetTextAsync("/"));
        }

        // The deploy fixed: a new zygote imports it, its workers replace the old ones, and the old zygote goes.
        await deploy.WriteAsync(App("second version"));
        server.SendSignal("HUP");
        await server.WaitForEventAsync(_ => server.Events("worker.retired").Count >= 2, Http.Short);
        for (var i = 0; i < 4; i++)
        {
            Assert.Equal("second version", await server.Client.GetTextAsync("/"));
        }

        await WaitUntilGoneAsync(firstZygote, Http.Short);
        Assert.Single(server.Events("worker.crashed"));
    }

    [Fact]
    public async Task A_second_SIGHUP_while_the_new_code_loads_starts_the_load_over()
    {
        using var deploy = new VersionedApp();
        static string App(string body, double importSeconds) =>
            $"import time\ntime.sleep({importSeconds.ToString(CultureInfo.InvariantCulture)})\n" +
            $"def app(environ, start_response):\n    start_response('200 OK', [])\n    return [b'{body}']\n";
        await deploy.WriteAsync(App("first", 0));
        await using var server = await TapsterServer.StartAsync("versioned:app", "--chdir", deploy.Directory, "--workers", "1", "--threads", "1");

        // The first reload's import takes long (half a deploy on disk); the second one's is the code to serve.
        await deploy.WriteAsync(App("half-written", 30));
        server.SendSignal("HUP");
        await server.WaitForEventAsync(_ => server.Events("zygote.starting").Count >= 2, Http.Short);
        Assert.Equal("first", await server.Client.GetTextAsync("/"));
        await deploy.WriteAsync(App("second", 0));
        server.SendSignal("HUP");

        await server.WaitForEventAsync(_ => server.Events("worker.retired").Count >= 1, Http.Short);
        Assert.Equal("second", await server.Client.GetTextAsync("/"));
        Assert.Equal(3, server.Events("zygote.starting").Count);
        Assert.Empty(server.Events("reload.failed"));
    }

    [Fact]
    public async Task SIGTERM_in_the_middle_of_a_reload_stops_both_generations_and_leaves_no_Python_behind()
    {
        using var deploy = new VersionedApp();
        await using var server = await StartVersionedAsync(deploy, workers: 2);

        // The new code's import hangs: the old zygote and workers serve, the new zygote is still loading.
        await ReloadIntoAsync(server, deploy, "import time\ntime.sleep(600)\n");
        Assert.Equal("first", await server.Client.GetTextAsync("/"));
        var pythons = server.Events("zygote.starting").Concat(server.Events("worker.ready")).Select(e => e.GetProperty("pid").GetInt32()).ToList();

        server.SendSigterm();
        Assert.Equal(0, await server.WaitForExitAsync(Http.Long));
        foreach (var pid in pythons)
        {
            await WaitUntilGoneAsync(pid, Http.Short);
        }
    }

    const string FirstApp = "def app(environ, start_response):\n    start_response('200 OK', [])\n    return [b'first']\n";

    /// <summary>Serves <see cref="FirstApp"/> from <paramref name="deploy"/> with one thread per worker, once every worker is ready.</summary>
    static async Task<TapsterServer> StartVersionedAsync(VersionedApp deploy, int workers)
    {
        await deploy.WriteAsync(FirstApp);
        var server = await TapsterServer.StartAsync("versioned:app", "--chdir", deploy.Directory, "--workers", workers.ToString(CultureInfo.InvariantCulture), "--threads", "1");
        await server.WaitForEventAsync(_ => server.Events("worker.ready").Count >= workers, Http.Short);
        return server;
    }

    /// <summary>Deploys <paramref name="source"/> and sends SIGHUP; returns once the reload's zygote has started.</summary>
    static async Task ReloadIntoAsync(TapsterServer server, VersionedApp deploy, string source)
    {
        var zygotes = server.Events("zygote.starting").Count;
        await deploy.WriteAsync(source);
        server.SendSignal("HUP");
        await server.WaitForEventAsync(_ => server.Events("zygote.starting").Count > zygotes, Http.Short);
    }

    [Fact]
    public async Task A_reload_that_fails_after_a_second_SIGHUP_replaces_no_worker()
    {
        using var deploy = new VersionedApp();
        await using var server = await StartVersionedAsync(deploy, workers: 2);

        await ReloadIntoAsync(server, deploy, "import time\ntime.sleep(600)\n");
        await ReloadIntoAsync(server, deploy, "raise RuntimeError('broken-deploy-11')\n");

        await server.WaitForEventAsync(e => e.Str("event") == "reload.failed", Http.Short);
        Assert.Equal("first", await server.Client.GetTextAsync("/"));
        Assert.Equal(2, server.Events("worker.ready").Count);
        Assert.Empty(server.Events("worker.replaced"));
    }

    [Fact]
    public async Task SIGTTOU_during_a_reload_takes_an_old_worker_and_the_reload_still_ends_with_only_new_code()
    {
        using var deploy = new VersionedApp();
        await using var server = await StartVersionedAsync(deploy, workers: 3);

        // The new code takes a moment to import, so the SIGTTOU comes before any new worker is ready.
        await ReloadIntoAsync(server, deploy, "import time\ntime.sleep(1)\n" + FirstApp.Replace("first", "second", StringComparison.Ordinal));
        server.SendSignal("TTOU");

        await server.WaitForEventAsync(e => e.Str("event") == "reload.done", Http.Short);
        for (var i = 0; i < 6; i++)
        {
            Assert.Equal("second", await server.Client.GetTextAsync("/"));
        }
    }

    [Fact]
    public async Task A_reload_whose_interpreter_is_gone_keeps_the_old_workers_and_a_later_one_works()
    {
        using var deploy = new VersionedApp();
        var python = Path.Combine(deploy.Directory, "python");
        File.CreateSymbolicLink(python, "/usr/bin/python3");
        await deploy.WriteAsync(FirstApp);
        await using var server = await TapsterServer.StartAsync("versioned:app", "--chdir", deploy.Directory, "--python", python, "--workers", "1", "--threads", "1");

        // A deploy that removed the release holding the interpreter.
        File.Delete(python);
        server.SendSignal("HUP");
        var failed = await server.WaitForEventAsync(e => e.Str("event") == "reload.failed", Http.Short);
        Assert.Contains("cannot start Python", failed.Str("reason"), StringComparison.Ordinal);
        Assert.Equal("first", await server.Client.GetTextAsync("/"));

        File.CreateSymbolicLink(python, "/usr/bin/python3");
        await deploy.WriteAsync(FirstApp.Replace("first", "second", StringComparison.Ordinal));
        server.SendSignal("HUP");
        await server.WaitForEventAsync(e => e.Str("event") == "reload.done", Http.Short);
        Assert.Equal("second", await server.Client.GetTextAsync("/"));
    }

    [Fact]
    public async Task The_traceback_of_a_failed_reload_is_logged_with_secret_values_masked()
    {
        using var deploy = new VersionedApp();
        await File.WriteAllTextAsync(Path.Combine(deploy.Directory, "tapster.toml"), "[env]\nAPI_TOKEN = \"tok-live-8f3a9c2e\"\n");
        await deploy.WriteAsync(FirstApp);
        await using var server = await TapsterServer.StartAsync("versioned:app", "--chdir", deploy.Directory, "--workers", "1", "--threads", "1");

        await deploy.WriteAsync("import os\nraise RuntimeError('cannot log in with ' + os.environ['API_TOKEN'])\n");
        server.SendSignal("HUP");
        var failed = await server.WaitForEventAsync(e => e.Str("event") == "reload.failed", Http.Short);
        Assert.Contains("cannot log in with [redacted API_TOKEN]", failed.Str("traceback"), StringComparison.Ordinal);
        Assert.DoesNotContain("tok-live-8f3a9c2e", server.AllOutput, StringComparison.Ordinal);
    }

    /// <summary>Waits until the process has exited: gone, or a zombie that only its parent's wait is missing.</summary>
    static async Task WaitUntilGoneAsync(int pid, TimeSpan timeout)
    {
        var sw = Stopwatch.StartNew();
        while (IsRunning(pid))
        {
            Assert.True(sw.Elapsed < timeout, $"process {pid} still runs after {timeout}");
            await Task.Delay(50);
        }
    }

    static bool IsRunning(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/stat");
            return !stat[(stat.LastIndexOf(')') + 2)..].StartsWith('Z');
        }
        catch (IOException)
        {
            return false;
        }
    }

    [Fact]
    public async Task SIGHUP_reloads_even_when_Tapster_was_started_under_nohup()
    {
        // nohup starts its command with SIGHUP ignored; .NET would then install no handler for it.
        await using var server = await TapsterServer.StartUnderAsync("nohup", "probe:app", "--workers", "1");
        await server.WaitForEventAsync(e => e.Str("event") == "signal.unignored", Http.Short);

        server.SendSignal("HUP");

        await server.WaitForEventAsync(e => e.Str("event") == "workers.reloading", Http.Short);
        Assert.Equal("ok", await server.Client.GetTextAsync("/"));
    }

    [Fact]
    public async Task A_worker_due_for_recycling_serves_on_until_its_replacement_can_load_the_app()
    {
        using var deploy = new VersionedApp();
        await deploy.WriteAsync("def app(environ, start_response):\n    start_response('200 OK', [])\n    return [b'old']\n");
        await using var server = await TapsterServer.StartAsync("versioned:app", "--chdir", deploy.Directory, "--workers", "1", "--threads", "1",
            "--no-preload", "--max-requests", "3");

        // Broken code on disk (a deploy in progress): every replacement fails to import it.
        await deploy.WriteAsync("raise RuntimeError('broken-deploy-8')\n");
        for (var i = 0; i < 10; i++)
        {
            Assert.Equal("old", await server.Client.GetTextAsync("/"));
        }

        await server.WaitForLogAsync(l => l.Contains("broken-deploy-8", StringComparison.Ordinal), Http.Short);
        Assert.Equal("old", await server.Client.GetTextAsync("/"));
        Assert.Empty(server.Events("worker.retired"));
    }

    [Fact]
    public async Task SIGTTIN_and_SIGTTOU_add_and_remove_a_worker_and_the_signals_gunicorn_users_send_never_kill_it()
    {
        await using var server = await TapsterServer.StartAsync("probe:app", "--workers", "1", "--threads", "1");
        server.SendSignal("TTIN");
        await server.WaitForEventAsync(_ => server.Events("worker.ready").Count >= 2, Http.Short);
        server.SendSignal("TTOU");
        await server.WaitForEventAsync(_ => server.Events("worker.retired").Count >= 1, Http.Short);

        server.SendSignal("TTOU"); // would leave no worker: refused
        server.SendSignal("USR1"); // Gunicorn's "reopen log files" (logrotate scripts send it)
        server.SendSignal("USR2"); // Gunicorn's binary upgrade
        await server.WaitForEventAsync(_ => server.Events("signal.ignored").Count >= 2, Http.Short);
        await server.WaitForEventAsync(e => e.Str("event") == "workers.resize_refused", Http.Short);

        Assert.Equal("ok", await server.Client.GetTextAsync("/"));
        Assert.Single(server.Events("worker.retired"));
        Assert.Equal([2, 1], server.Events("workers.resized").Select(e => e.GetProperty("count").GetInt32()));
    }

    static HashSet<int> ReadyPids(TapsterServer server) =>
        server.Events("worker.ready").Select(e => e.GetProperty("pid").GetInt32()).ToHashSet();
}

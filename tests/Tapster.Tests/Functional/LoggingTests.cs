using System.Globalization;
using System.Text.Json;

namespace Tapster.Tests.Functional;

[Collection(FunctionalGroup.Name)]
public class LoggingTests(SharedProbeServer shared)
{
    TapsterServer Server => shared.Server;

    [Fact]
    public async Task The_listening_line_names_the_port_the_system_chose_for_port_0()
    {
        await using var server = await TapsterServer.StartAsync("probe:app", "--workers", "1", "--bind", "127.0.0.1:0");
        var listening = await server.WaitForEventAsync(e => e.Str("event") == "server.listening", Http.Short);

        var addresses = listening.Str("bind")!.Split(", ");
        Assert.Equal(2, addresses.Length);
        Assert.Equal($"127.0.0.1:{server.Port}", addresses[0]);
        var chosen = int.Parse(addresses[1]["127.0.0.1:".Length..], System.Globalization.CultureInfo.InvariantCulture);
        Assert.NotEqual(0, chosen);
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{chosen}") };
        Assert.Equal("ok", await client.GetStringAsync("/"));
    }

    [Fact]
    public async Task What_a_request_writes_to_stdout_stderr_and_wsgi_errors_is_logged_as_its_records()
    {
        var q = "abc" + Guid.NewGuid().ToString("N")[..8];
        var pid = int.Parse(await Server.Client.GetTextAsync("/pid"), CultureInfo.InvariantCulture);
        using var r = await Server.Client.GetAsync("/print?q=" + q);
        Assert.Equal("printed", await r.Content.ReadAsStringAsync());

        foreach (var (marker, stream, level) in new[] { ("stdout-marker-", "stdout", "info"), ("stderr-marker-", "stderr", "warn"), ("wsgi-errors-marker-", "wsgi.errors", "warn") })
        {
            var e = await Server.WaitForEventAsync(e => e.Str("event") == "app.log" && e.Str("text") == marker + q, Http.Short);
            Assert.Equal((stream, pid, r.Header("X-Request-ID"), level, "worker"), (e.Str("stream"), e.GetProperty("pid").GetInt32(), e.Str("request_id"), e.Str("level"), e.Str("source")));
            Assert.True(e.TryGetProperty("worker", out _), "no worker id: " + e.GetRawText());
        }
    }

    [Fact]
    public async Task A_preloaded_apps_basicConfig_logging_makes_one_error_event_per_exception_with_the_request_id()
    {
        await using var server = await TapsterServer.StartAsync("basiclog:app", "--workers", "1");
        var q = Guid.NewGuid().ToString("N")[..8];
        using var r = await server.Client.GetAsync("/fail?q=" + q);
        Assert.Equal("handled", await r.Content.ReadAsStringAsync());

        var e = await server.WaitForEventAsync(e => e.Str("event") == "app.log" && (e.Str("text") ?? "").StartsWith("ERROR:basiclog:lookup failed " + q, StringComparison.Ordinal), Http.Short);
        Assert.Equal(("error", "stderr", r.Header("X-Request-ID")), (e.Str("level"), e.Str("stream"), e.Str("request_id")));
        Assert.EndsWith("LookupError: missing-" + q, e.Str("text"), StringComparison.Ordinal);
        Assert.DoesNotContain(server.Events("app.output"), o => (o.Str("line") ?? "").Contains(q, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_logged_exception_and_its_traceback_are_one_error_event_of_the_request()
    {
        var q = Guid.NewGuid().ToString("N")[..8];
        using var r = await Server.Client.GetAsync("/log-exception?q=" + q);
        Assert.Equal("logged", await r.Content.ReadAsStringAsync());

        var e = await Server.WaitForEventAsync(e => e.Str("event") == "app.log" && (e.Str("text") ?? "").Contains("handled-" + q, StringComparison.Ordinal), Http.Short);
        var text = e.Str("text")!;
        Assert.Equal("error", e.Str("level"));
        Assert.Equal(r.Header("X-Request-ID"), e.Str("request_id"));
        Assert.Contains("Traceback (most recent call last):\n", text, StringComparison.Ordinal);
        Assert.EndsWith("ValueError: logged-" + q, text, StringComparison.Ordinal);
        // No line of it went out on its own.
        Assert.DoesNotContain(Server.Events("app.output"), o => (o.Str("line") ?? "").Contains("logged-" + q, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_replaced_workers_child_still_has_its_output_logged_and_no_server_thread_waits_on_it()
    {
        // Every worker is recycled after one request, so the one that starts the child goes right after.
        await using var server = await TapsterServer.StartAsync("probe:app", "--workers", "1", "--threads", "1", "--max-requests", "1", "--max-requests-jitter", "0");
        var q = Guid.NewGuid().ToString("N")[..8];
        var pids = (await server.Client.GetTextAsync("/spawn-child?q=" + q)).Split(' ').Select(p => int.Parse(p, CultureInfo.InvariantCulture)).ToArray();
        var (workerPid, childPid) = (pids[0], pids[1]);
        try
        {
            // The child prints only once its worker is gone.
            var line = await server.WaitForEventAsync(e => e.Str("event") == "app.output" && e.Str("line") == $"child-marker-{q} {childPid}", Http.Short);
            Assert.Equal(workerPid, line.GetProperty("pid").GetInt32());
            // Worker ids are numbers in Tapster's own events too, as in this app-output line.
            Assert.Equal(line.GetProperty("worker").GetUInt32(), server.Events("worker.ready").First(e => e.GetProperty("pid").GetInt32() == workerPid).GetProperty("worker_id").GetUInt32());
            var threads = Directory.GetDirectories($"/proc/{server.Pid}/task").Select(t => File.ReadAllText(Path.Combine(t, "comm")).Trim()).ToList();
            Assert.DoesNotContain(threads, name => name.StartsWith("output worker", StringComparison.Ordinal));
        }
        finally
        {
            using var child = System.Diagnostics.Process.GetProcessById(childPid);
            child.Kill();
        }
    }

    [Fact]
    public async Task A_client_that_half_closes_after_its_request_is_logged_as_gone_not_as_served()
    {
        // Kestrel, like nginx before an upstream, takes the FIN for a client that left and sends it
        // nothing: the access line must not claim a 200.
        // The FIN must come once the request runs: Kestrel does not start a request whose FIN came with it
        // (nothing runs, nothing is logged), which a shutdown right after the send sometimes was under load.
        var id = "half-closed-" + Guid.NewGuid().ToString("N");
        using var raw = await RawHttp.ConnectAsync(Server.Port);
        await raw.SendAsync(RawHttp.Get($"/slow?s=2&mark={id}", $"X-Request-ID: {id}\r\n"));
        await Server.WaitForEventAsync(e => e.Str("event") == "app.log" && e.Str("text") == "slow-started-" + id, Http.Short);
        raw.Socket.Shutdown(System.Net.Sockets.SocketShutdown.Send);
        var e = await Server.WaitForEventAsync(e => e.Str("event") == "access" && e.Str("request_id") == id, Http.Short);
        Assert.Equal(499, e.GetProperty("status").GetInt32());
        Assert.Equal(0, e.GetProperty("bytes").GetInt64());
    }

    [Fact]
    public async Task An_OPTIONS_request_for_the_whole_server_is_logged_with_its_asterisk_target()
    {
        var id = "asterisk-" + Guid.NewGuid().ToString("N");
        using var raw = await RawHttp.ConnectAsync(Server.Port);
        await raw.SendAsync($"OPTIONS * HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Request-ID: {id}\r\n\r\n");
        var e = await Server.WaitForEventAsync(e => e.Str("event") == "access" && e.Str("request_id") == id, Http.Short);
        Assert.Equal("OPTIONS", e.Str("method"));
        Assert.Equal("*", e.Str("path"));
    }

    [Fact]
    public async Task Log_level_warn_and_a_skipped_health_path_leave_out_info_events_and_successful_health_checks_only()
    {
        await using var server = await TapsterServer.StartAsync("probe:app", "--workers", "1", "--log-level", "warn", "--access-log-skip", "/health");
        using (var health = await server.Client.GetAsync("/health"))
            Assert.Equal(System.Net.HttpStatusCode.OK, health.StatusCode);
        Assert.Equal("ok", await server.Client.GetTextAsync("/"));
        using (var missing = await server.Client.GetAsync("/health/missing"))
            Assert.Equal(System.Net.HttpStatusCode.NotFound, missing.StatusCode);

        // Lines come in the order the requests ended: once the last is there, the others would be too.
        await server.WaitForEventAsync(e => e.Str("event") == "access" && e.Str("path") == "/health/missing", Http.Short);
        Assert.Contains(server.Events("access"), e => e.Str("path") == "/");
        Assert.DoesNotContain(server.Events("access"), e => e.Str("path") == "/health");
        Assert.Empty(server.Events("worker.ready"));
        Assert.Empty(server.Events("server.listening"));
    }

    [Fact]
    public async Task Without_access_lines_the_app_output_is_still_logged()
    {
        await using var server = await TapsterServer.StartAsync("probe:app", "--workers", "1", "--no-access-log");
        var q = Guid.NewGuid().ToString("N")[..8];
        Assert.Equal("printed", await server.Client.GetTextAsync($"/print?q=first-{q}"));
        Assert.Equal("printed", await server.Client.GetTextAsync($"/print?q=second-{q}"));

        // The first request's line would have been written before the second request began.
        await server.WaitForEventAsync(e => e.Str("event") == "app.log" && (e.Str("text") ?? "").Contains($"stdout-marker-second-{q}", StringComparison.Ordinal), Http.Short);
        Assert.Empty(server.Events("access"));
        Assert.Single(server.Events("server.listening"));
    }

    [Fact]
    public async Task Every_request_gets_an_access_log_line_with_its_details()
    {
        var pid = int.Parse(await Server.Client.GetTextAsync("/pid"), CultureInfo.InvariantCulture);
        var id = "access-" + Guid.NewGuid().ToString("N");
        using var req = new HttpRequestMessage(HttpMethod.Get, "/health?x=1");
        req.Headers.Add("X-Request-ID", id);
        req.Headers.UserAgent.ParseAdd("probe-agent/1.0");
        using var r = await Server.Client.SendAsync(req);
        var length = (await r.Content.ReadAsByteArrayAsync()).Length;
        var e = await Server.WaitForEventAsync(e => e.Str("event") == "access" && e.Str("request_id") == id, Http.Short);
        Assert.Equal("GET", e.Str("method"));
        Assert.Equal("/health", e.Str("path"));
        Assert.Equal(200, e.GetProperty("status").GetInt32());
        Assert.Equal(length, e.GetProperty("bytes").GetInt32());
        Assert.Equal(JsonValueKind.Number, e.GetProperty("duration_ms").ValueKind);
        Assert.True(e.GetProperty("duration_ms").GetDouble() >= 0);
        Assert.Equal(JsonValueKind.Number, e.GetProperty("queue_ms").ValueKind);
        Assert.True(e.GetProperty("queue_ms").GetDouble() >= 0);
        Assert.Equal(pid, e.GetProperty("worker_pid").GetInt32());
        Assert.Equal(("probe-agent/1.0", $"127.0.0.1:{Server.Port}"), (e.Str("user_agent"), e.Str("host")));
        Assert.Single(Server.Events("access"), a => a.Str("request_id") == id);
    }

    [Fact]
    public async Task The_log_never_holds_authorization_cookie_or_query_values()
    {
        var id = "private-" + Guid.NewGuid().ToString("N");
        using var req = new HttpRequestMessage(HttpMethod.Get, "/health?token=query-secret-5521");
        req.Headers.Add("X-Request-ID", id);
        req.Headers.Add("Authorization", "Bearer auth-secret-5521");
        req.Headers.Add("Cookie", "session=cookie-secret-5521");
        using var r = await Server.Client.SendAsync(req);

        await Server.WaitForEventAsync(e => e.Str("event") == "access" && e.Str("request_id") == id, Http.Short);
        Assert.DoesNotContain("secret-5521", Server.AllOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_access_log_counts_the_bytes_of_an_error_body_made_by_the_server()
    {
        var id = "errbytes-" + Guid.NewGuid().ToString("N");
        using var req = new HttpRequestMessage(HttpMethod.Get, "/hop-by-hop");
        req.Headers.Add("X-Request-ID", id);
        using var r = await Server.Client.SendAsync(req);
        Assert.Equal(System.Net.HttpStatusCode.InternalServerError, r.StatusCode);
        var length = (await r.Content.ReadAsByteArrayAsync()).Length;
        Assert.True(length > 0);
        var e = await Server.WaitForEventAsync(e => e.Str("event") == "access" && e.Str("request_id") == id, Http.Short);
        Assert.Equal(500, e.GetProperty("status").GetInt32());
        Assert.True(e.GetProperty("bytes").GetInt32() == length,
            $"the client got {length} body bytes, the access line says {e.GetProperty("bytes").GetInt32()}");
    }
}

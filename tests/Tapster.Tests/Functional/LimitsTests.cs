using System.Diagnostics;
using System.Net;
using System.Text.Json;

namespace Tapster.Tests.Functional;

/// <summary>[limits] over real sockets: slow clients are cut off at the edge, and the workers never notice.</summary>
[Collection(FunctionalGroup.Name)]
public sealed class LimitsTests : IDisposable
{
    readonly string dir = Directory.CreateTempSubdirectory("tapster-limits-ft-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    string Config(string toml)
    {
        var path = Path.Combine(dir, "tapster.toml");
        File.WriteAllText(path, toml);
        return path;
    }

    /// <summary>
    /// The paths under /attack that reached a worker (their access lines name its pid), once every line
    /// logged before a final marker request is in.
    /// </summary>
    static async Task<List<string>> AttacksSeenByWorkersAsync(TapsterServer server)
    {
        using var marker = await server.Client.GetAsync("/marker");
        await server.WaitForEventAsync(e => e.Str("event") == "access" && e.Str("path") == "/marker", Http.Short);
        return [.. server.Events("access")
            .Where(e => e.Str("path")!.StartsWith("/attack", StringComparison.Ordinal) && e.GetProperty("worker_pid").ValueKind == JsonValueKind.Number)
            .Select(e => e.Str("path")!)];
    }

    [Fact]
    public async Task Slowloris_and_slow_POST_clients_are_disconnected_while_the_only_worker_keeps_serving()
    {
        var config = Config("""
            [limits]
            header_timeout = "2s"
            min_data_rate = 1000
            data_rate_grace = "2s"
            """);
        await using var server = await TapsterServer.StartAsync("probe:app", "--workers", "1", "--threads", "1", "--config", config);
        var slowloris = new List<RawHttp>();
        var slowPosts = new List<RawHttp>();
        for (var i = 0; i < 20; i++)
        {
            var headers = await RawHttp.ConnectAsync(server.Port);
            await headers.SendAsync("GET /attack/slowloris HTTP/1.1\r\nHost: x\r\n");
            slowloris.Add(headers);
            var body = await RawHttp.ConnectAsync(server.Port);
            await body.SendAsync("POST /attack/slow-post HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n");
            slowPosts.Add(body);
        }

        // The attackers trickle a byte now and then; meanwhile a real client is served at once.
        using var trickling = new CancellationTokenSource();
        var trickle = Task.Run(async () =>
        {
            while (!trickling.IsCancellationRequested)
            {
                foreach (var c in slowloris.Concat(slowPosts).Where(c => !c.Closed))
                {
                    try { await c.SendAsync(slowloris.Contains(c) ? "X-A: b\r\n" : "a"); } catch (IOException) { } catch (System.Net.Sockets.SocketException) { }
                }
                await Task.Delay(300);
            }
        });
        var served = Stopwatch.StartNew();
        Assert.Equal("ok", await server.Client.GetStringAsync("/"));
        Assert.True(served.Elapsed < TimeSpan.FromSeconds(2), $"a normal request waited {served.Elapsed} behind the slow clients");

        foreach (var c in slowloris.Concat(slowPosts))
        {
            Assert.True(await c.ReadUntilClosedAsync(TimeSpan.FromSeconds(15)), "a slow client was still connected after the limits: " + c.Text);
        }

        await trickling.CancelAsync();
        await trickle;
        Assert.All(slowloris.Where(c => c.Text.Length > 0), c => Assert.StartsWith("HTTP/1.1 408 ", c.Text, StringComparison.Ordinal));
        Assert.Empty(await AttacksSeenByWorkersAsync(server));
        foreach (var c in slowloris.Concat(slowPosts)) c.Dispose();
    }

    [Theory]
    [InlineData(100_000, "200")]
    [InlineData(900_000, "431")]
    public async Task Heads_and_bodies_at_raised_limits_reach_the_app_or_are_refused_but_never_break_a_worker(int targetBytes, string status)
    {
        var config = Config("[limits]\nmax_request_line = \"1MiB\"\nmax_header_size = \"1MiB\"\n");
        await using var server = await TapsterServer.StartAsync("probe:app", "--workers", "1", "--config", config);
        var headers = string.Concat(Enumerable.Range(0, 20).Select(i => $"X-Big-{i}: {new string('h', 50_000)}\r\n"));
        var body = new byte[1024 * 1024]; // the spool threshold: inline, were there room beside this head
        Random.Shared.NextBytes(body);
        using var raw = await RawHttp.ConnectAsync(server.Port);
        await raw.SendAsync($"POST /echo?q={new string('q', targetBytes)} HTTP/1.1\r\nHost: x\r\nContent-Length: {body.Length}\r\nConnection: close\r\n{headers}\r\n");
        await raw.SendAsync(body);

        Assert.True(await raw.ReadUntilClosedAsync(Http.Long), raw.Text[..Math.Min(200, raw.Text.Length)]);
        Assert.StartsWith($"HTTP/1.1 {status} ", raw.Text, StringComparison.Ordinal);
        if (status == "200")
        {
            Assert.Contains(Http.Sha256Hex(body), raw.Text, StringComparison.Ordinal);
        }

        Assert.Empty(server.Events("worker.crashed"));
        Assert.DoesNotContain(server.Events(), e => e.Str("event")?.StartsWith("worker.exit", StringComparison.Ordinal) == true);
    }

    [Fact]
    public async Task Connections_that_send_nothing_or_half_an_HTTP2_preface_are_closed_after_the_header_timeout()
    {
        await using var server = await TapsterServer.StartAsync("probe:app", "--workers", "1", "--config", Config("[limits]\nheader_timeout = \"2s\"\n"));
        var silent = new List<RawHttp>();
        for (var i = 0; i < 10; i++)
        {
            var connection = await RawHttp.ConnectAsync(server.Port);
            if (i % 2 == 1)
            {
                await connection.SendAsync("PRI * HTTP/2.0\r\n");
            }

            silent.Add(connection);
        }

        Assert.Equal("ok", await server.Client.GetStringAsync("/"));
        foreach (var connection in silent)
        {
            // Well before Kestrel's keep-alive timeout (75 s), which used to be no limit at all here.
            Assert.True(await connection.ReadUntilClosedAsync(TimeSpan.FromSeconds(15)), "a silent connection was still open");
            connection.Dispose();
        }
    }

    [Theory]
    [InlineData("line", "414")]
    [InlineData("count", "431")]
    [InlineData("size", "431")]
    public async Task Oversized_request_heads_are_refused_before_any_worker(string what, string status)
    {
        await using var server = await TapsterServer.StartAsync("probe:app", "--workers", "1", "--limit-request-line", "1KiB", "--limit-request-fields", "10");
        var request = what switch
        {
            "line" => RawHttp.Get("/attack/" + new string('a', 2000)),
            "count" => RawHttp.Get("/attack", string.Concat(Enumerable.Range(0, 11).Select(i => $"X-H{i}: v\r\n"))),
            _ => RawHttp.Get("/attack", $"X-Big: {new string('b', 40 * 1024)}\r\n"),
        };
        using var raw = await RawHttp.ConnectAsync(server.Port);
        await raw.SendAsync(request);

        Assert.True(await raw.ReadUntilAsync(t => t.Contains("\r\n\r\n", StringComparison.Ordinal), Http.Short), raw.Text);
        Assert.StartsWith($"HTTP/1.1 {status} ", raw.Text, StringComparison.Ordinal);
        Assert.Empty(await AttacksSeenByWorkersAsync(server));
        var why = await server.WaitForEventAsync(e => e.Str("event") == "request.rejected", Http.Short);
        Assert.Contains(what == "line" ? "line too long" : what == "count" ? "too many headers" : "headers too long", why.Str("reason"), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Past_max_connections_a_new_connection_is_closed_until_one_frees_up()
    {
        await using var server = await TapsterServer.StartAsync("probe:app", "--workers", "1", "--max-connections", "2");
        // The readiness probe's connection may still be open: wait until a fresh one is served.
        using var first = await RawHttp.ConnectAsync(server.Port);
        await first.SendAsync(RawHttp.Get("/"));
        Assert.True(await first.ReadUntilAsync(t => t.EndsWith("ok", StringComparison.Ordinal), Http.Short), first.Text);
        using var second = await RawHttp.ConnectAsync(server.Port);
        await second.SendAsync(RawHttp.Get("/"));
        var secondServed = await second.ReadUntilAsync(t => t.EndsWith("ok", StringComparison.Ordinal), Http.Short);

        using var third = await RawHttp.ConnectAsync(server.Port);
        try { await third.SendAsync(RawHttp.Get("/")); } catch (IOException) { }
        Assert.True(await third.ReadUntilClosedAsync(Http.Short), "the connection over the limit was served: " + third.Text);
        Assert.DoesNotContain("HTTP/1.1", third.Text, StringComparison.Ordinal);
        Assert.True(secondServed || first.Closed, "neither of the two allowed connections was served");

        first.Dispose();
        second.Dispose();
        await AssertEventuallyServedAsync(server.Port);
    }

    static async Task AssertEventuallyServedAsync(int port)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < Http.Short)
        {
            using var again = await RawHttp.ConnectAsync(port);
            try { await again.SendAsync(RawHttp.Get("/")); } catch (IOException) { }
            if (await again.ReadUntilAsync(t => t.EndsWith("ok", StringComparison.Ordinal), TimeSpan.FromSeconds(2))) return;
            await Task.Delay(100);
        }

        Assert.Fail("no connection was served after the others closed");
    }

    [Fact]
    public async Task An_idle_keep_alive_connection_is_closed_after_the_keep_alive_timeout()
    {
        await using var server = await TapsterServer.StartAsync("probe:app", "--workers", "1", "--keep-alive", "2s");
        using var raw = await RawHttp.ConnectAsync(server.Port);
        await raw.SendAsync(RawHttp.Get("/"));
        Assert.True(await raw.ReadUntilAsync(t => t.EndsWith("ok", StringComparison.Ordinal), Http.Short), raw.Text);
        var idle = Stopwatch.StartNew();

        Assert.True(await raw.ReadUntilClosedAsync(TimeSpan.FromSeconds(10)), "the idle connection stayed open");
        Assert.InRange(idle.Elapsed, TimeSpan.FromSeconds(1.5), TimeSpan.FromSeconds(6));
    }
}

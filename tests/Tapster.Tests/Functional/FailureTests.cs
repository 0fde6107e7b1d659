using System.Diagnostics;
using System.Net;

namespace Tapster.Tests.Functional;

[Collection(FunctionalGroup.Name)]
public class FailureTests
{
    static readonly string[] OneWorker = ["--workers", "1", "--threads", "2"];

    [Fact]
    public async Task A_request_over_the_timeout_gets_504_and_the_stack_is_logged()
    {
        await using var server = await TapsterServer.StartAsync("probe:app", "--workers", "1", "--threads", "2", "--timeout", "2");
        var sw = Stopwatch.StartNew();
        using (var r = await server.Client.GetAsync("/slow?s=30"))
        {
            Assert.Equal(HttpStatusCode.GatewayTimeout, r.StatusCode);
            Assert.True(sw.Elapsed < TimeSpan.FromSeconds(10), $"504 after {sw.Elapsed}");
        }
        // The Python stack of the stuck worker shows the app's frame.
        await server.WaitForEventAsync(e => e.Str("event") == "app.output"
            && (e.Str("line") ?? "").Contains("in slow", StringComparison.Ordinal), Http.Short);
        Assert.NotEmpty(server.Events("worker.timeout"));
        for (var i = 0; i < 10; i++)
        {
            using var r = await server.Client.GetAsync("/");
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        }
    }

    [Fact]
    public async Task A_worker_that_breaks_the_protocol_is_replaced_and_its_request_gets_502()
    {
        await using var server = await TapsterServer.StartAsync("probe:app", OneWorker);
        var pidBefore = await server.Client.GetTextAsync("/pid");
        var sw = Stopwatch.StartNew();
        using (var r = await server.Client.GetAsync("/break-protocol"))
        {
            Assert.Equal(HttpStatusCode.BadGateway, r.StatusCode);
            Assert.True(sw.Elapsed < TimeSpan.FromSeconds(8), $"502 only after {sw.Elapsed}: the worker was not cut off");
        }

        Assert.NotEqual(pidBefore, await server.Client.GetTextAsync("/pid"));
        Assert.Contains(server.Events("worker.crashed"), e => (e.Str("message") ?? "").Contains("frame", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_worker_that_dies_mid_request_gives_502_and_a_new_worker_takes_over()
    {
        await using var server = await TapsterServer.StartAsync("probe:app", OneWorker);
        var pidBefore = await server.Client.GetTextAsync("/pid");
        using (var r = await server.Client.GetAsync("/crash"))
            Assert.Equal(HttpStatusCode.BadGateway, r.StatusCode);
        for (var i = 0; i < 5; i++)
            Assert.Equal("ok", await server.Client.GetTextAsync("/"));
        Assert.NotEqual(pidBefore, await server.Client.GetTextAsync("/pid"));
        Assert.NotEmpty(server.Events("worker.crashed"));
        // Why it died is logged too (/crash calls os._exit(1)), at warning level.
        var status = await server.WaitForEventAsync(e => e.Str("event") == "worker.exit_status", Http.Short);
        Assert.Equal(("warn", "exit code 1", pidBefore), (status.Str("level"), status.Str("status"), status.GetProperty("pid").GetInt32().ToString(System.Globalization.CultureInfo.InvariantCulture)));
    }

    [Fact]
    public async Task A_stream_cut_by_the_timeout_is_logged_with_the_bytes_that_went_out()
    {
        await using var server = await TapsterServer.StartAsync("probe:app", "--workers", "1", "--threads", "1", "--timeout", "1");
        using var raw = await RawHttp.ConnectAsync(server.Port);
        await raw.SendAsync(RawHttp.Get("/stream?n=20&delay=0.3"));

        Assert.True(await raw.ReadUntilClosedAsync(Http.Short), raw.Text);
        Assert.Contains("chunk0", raw.Text, StringComparison.Ordinal);
        Assert.DoesNotContain("chunk19", raw.Text, StringComparison.Ordinal);
        var access = await server.WaitForEventAsync(e => e.Str("event") == "access" && e.Str("path") == "/stream", Http.Short);
        Assert.Equal(200, access.GetProperty("status").GetInt32());
        Assert.True(access.GetProperty("bytes").GetInt64() >= "chunk0\n".Length, access.GetRawText());
    }

    [Fact]
    public async Task A_client_that_reads_slowly_never_makes_a_finished_app_overstay_the_timeout()
    {
        await using var server = await TapsterServer.StartAsync("probe:app", "--workers", "1", "--threads", "1", "--timeout", "1");
        // Far more than the kernel's socket buffers hold: the worker waits on this client to send the rest.
        const int size = 24 * 1024 * 1024;
        using var tcp = new System.Net.Sockets.TcpClient { ReceiveBufferSize = 64 * 1024 };
        await tcp.ConnectAsync("127.0.0.1", server.Port);
        var stream = tcp.GetStream();
        await stream.WriteAsync(System.Text.Encoding.Latin1.GetBytes(RawHttp.Get($"/text?size={size}&type=application/octet-stream", "Connection: close\r\n")));

        // A slow reader (64 KB every 20 ms) for three times the timeout, then a fast one.
        var buffer = new byte[64 * 1024];
        var clock = System.Diagnostics.Stopwatch.StartNew();
        long received = 0;
        int read;
        while ((read = await stream.ReadAsync(buffer)) > 0)
        {
            received += read;
            if (clock.Elapsed < TimeSpan.FromSeconds(3))
            {
                await Task.Delay(20);
            }
        }

        var access = await server.WaitForEventAsync(e => e.Str("event") == "access" && e.Str("path") == "/text", Http.Short);
        Assert.Equal((200, size), (access.GetProperty("status").GetInt32(), access.GetProperty("bytes").GetInt32()));
        Assert.True(received > size, $"received {received} bytes");
        Assert.Empty(server.Events("worker.timeout"));
    }

    [Fact]
    public async Task A_client_that_stops_reading_a_large_response_holds_no_worker_and_still_gets_it_whole()
    {
        await using var server = await TapsterServer.StartAsync("probe:app", "--workers", "1", "--threads", "1");
        const int size = 24 * 1024 * 1024;
        var path = $"/text?size={size}&type=application/octet-stream";
        var expected = Http.Sha256Hex(await server.Client.GetByteArrayAsync(path));

        // Its first bytes prove the app is answering it; then that client reads nothing for a while.
        var (stalled, stream, first) = await StalledReaderAsync(server, RawHttp.Get(path, "Connection: close\r\n"));
        using var client = stalled;
        var received = new MemoryStream();
        received.Write(first);

        // The one worker thread answers others meanwhile: the rest of that response waits in Tapster.
        using var other = new HttpClient { BaseAddress = server.BaseAddress, Timeout = Http.Short };
        Assert.Equal("ok", await other.GetStringAsync("/"));

        // And nothing was lost.
        await stream.CopyToAsync(received).WaitAsync(Http.Long);
        var bytes = received.ToArray();
        var bodyStart = bytes.AsSpan().IndexOf("\r\n\r\n"u8) + 4;
        Assert.Equal(expected, Http.Sha256Hex(bytes[bodyStart..]));
    }

    [Fact]
    public async Task With_no_spool_file_allowed_a_client_that_stops_reading_holds_its_worker_as_behind_a_plain_proxy()
    {
        await using var server = await StartWithConfigAsync("[limits]\nresponse_buffer_size = \"64KiB\"\nresponse_spool_max = 0\n", "--queue-timeout", "1");
        using var stalled = (await StalledReaderAsync(server, RawHttp.Get("/text?size=25165824&type=application/octet-stream"))).Client;

        // The only worker thread waits for that reader: the next request waits its queue timeout out.
        using var other = new HttpClient { BaseAddress = server.BaseAddress, Timeout = Http.Short };
        using var r = await other.GetAsync("/");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, r.StatusCode);
    }

    [Fact]
    public async Task A_client_that_takes_nothing_for_the_send_timeout_loses_its_connection_and_its_spooled_response()
    {
        await using var server = await StartWithConfigAsync("[limits]\nsend_timeout = \"2s\"\n");
        const int size = 24 * 1024 * 1024;
        using var stalled = (await StalledReaderAsync(server, RawHttp.Get($"/text?size={size}&type=application/octet-stream"))).Client;

        // Then nothing is read: well within Kestrel's own limits (bytes / 240 s per write), Tapster gives up.
        var access = await server.WaitForEventAsync(e => e.Str("event") == "access" && e.Str("path") == "/text", Http.Short);
        Assert.Equal(200, access.GetProperty("status").GetInt32());
        Assert.True(access.GetProperty("bytes").GetInt64() < size, access.GetRawText());
    }

    /// <summary>probe:app on one worker thread, with a tapster.toml holding <paramref name="toml"/> (read once, at start).</summary>
    static async Task<TapsterServer> StartWithConfigAsync(string toml, params string[] flags)
    {
        var config = Path.Combine(Path.GetTempPath(), $"tapster-failure-{Guid.NewGuid():N}.toml");
        await File.WriteAllTextAsync(config, toml);
        try
        {
            return await TapsterServer.StartAsync("probe:app", ["--workers", "1", "--threads", "1", "--config", config, .. flags]);
        }
        finally
        {
            File.Delete(config);
        }
    }

    /// <summary>A client with a small receive buffer that sends <paramref name="request"/> and reads the first bytes of the answer, then nothing.</summary>
    static async Task<(System.Net.Sockets.TcpClient Client, Stream Stream, byte[] First)> StalledReaderAsync(TapsterServer server, string request)
    {
        var client = new System.Net.Sockets.TcpClient { ReceiveBufferSize = 64 * 1024 };
        await client.ConnectAsync("127.0.0.1", server.Port);
        var stream = client.GetStream();
        await stream.WriteAsync(System.Text.Encoding.Latin1.GetBytes(request));
        var first = new byte[64 * 1024];
        var read = await stream.ReadAsync(first);
        Assert.True(read > 0, "the response did not start");
        return (client, stream, first[..read]);
    }

    [Fact]
    public async Task A_worker_that_breaks_the_protocol_after_body_bytes_cuts_the_connection_without_a_server_error()
    {
        await using var server = await TapsterServer.StartAsync("probe:app", "--workers", "1", "--threads", "1");
        using var raw = await RawHttp.ConnectAsync(server.Port);
        await raw.SendAsync(RawHttp.Get("/double-start"));

        // Body bytes were written (not yet flushed) when the second START came: no 502 can follow them.
        Assert.True(await raw.ReadUntilClosedAsync(Http.Short), raw.Text);
        Assert.DoesNotContain("HTTP/1.1 5", raw.Text, StringComparison.Ordinal);
        await server.WaitForEventAsync(e => e.Str("event") == "worker.crashed", Http.Short);
        Assert.Equal("ok", await server.Client.GetTextAsync("/"));
        Assert.DoesNotContain(server.Events(), e => e.Str("level") == "error" && e.Str("event") is not ("worker.crashed" or "worker.protocol_violation"));
    }

    [Fact]
    public async Task A_connection_closed_before_its_first_byte_is_no_error()
    {
        await using var server = await TapsterServer.StartAsync("probe:app", OneWorker);
        for (var i = 0; i < 3; i++)
        {
            using var tcp = new System.Net.Sockets.TcpClient();
            await tcp.ConnectAsync("127.0.0.1", server.Port);
        }

        Assert.Equal("ok", await server.Client.GetTextAsync("/"));
        await server.WaitForEventAsync(e => e.Str("event") == "access", Http.Short);
        Assert.DoesNotContain(server.Events(), e => e.Str("level") == "error");
    }

    [Fact]
    public async Task An_app_exception_gives_500_without_details_and_the_traceback_is_logged()
    {
        await using var server = await TapsterServer.StartAsync("probe:app", OneWorker);
        using var r = await server.Client.GetAsync("/raise");
        Assert.Equal(HttpStatusCode.InternalServerError, r.StatusCode);
        var body = await r.Content.ReadAsStringAsync();
        Assert.DoesNotContain("secret-detail-4242", body, StringComparison.Ordinal);
        Assert.DoesNotContain("Traceback", body, StringComparison.Ordinal);
        // One event for the whole traceback, tagged with the request.
        var logged = await server.WaitForEventAsync(e => e.Str("event") == "app.log" && (e.Str("text") ?? "").Contains("RuntimeError: secret-detail-4242", StringComparison.Ordinal), Http.Short);
        Assert.Contains("Traceback (most recent call last):", logged.Str("text"), StringComparison.Ordinal);
        Assert.Equal(r.Header("X-Request-ID"), logged.Str("request_id"));
        Assert.Equal("error", logged.Str("level"));
        Assert.Equal("ok", await server.Client.GetTextAsync("/"));
    }

    [Fact]
    public async Task An_exception_after_the_response_started_aborts_the_connection()
    {
        await using var server = await TapsterServer.StartAsync("probe:app", OneWorker);
        using var raw = await RawHttp.ConnectAsync(server.Port);
        await raw.SendAsync(RawHttp.Get("/raise-after-start"));
        Assert.True(await raw.ReadUntilClosedAsync(Http.Short), "the connection stayed open:\n" + raw.Text);
        Assert.DoesNotContain("\r\n0\r\n\r\n", raw.Text, StringComparison.Ordinal); // no clean end of a chunked body
        Assert.DoesNotContain("after-start-4243", raw.Text, StringComparison.Ordinal);
        await server.WaitForLogAsync(l => l.Contains("after-start-4243", StringComparison.Ordinal), Http.Short);
    }

    [Fact]
    public async Task A_hop_by_hop_header_from_the_app_gives_500()
    {
        await using var server = await TapsterServer.StartAsync("probe:app", OneWorker);
        using (var r = await server.Client.GetAsync("/hop-by-hop"))
        {
            Assert.Equal(HttpStatusCode.InternalServerError, r.StatusCode);
            Assert.DoesNotContain("hop-by-hop body", await r.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        using (var r = await server.Client.GetAsync("/hop-by-hop?h=te"))
            Assert.Equal(HttpStatusCode.InternalServerError, r.StatusCode);
    }

    [Fact]
    public async Task A_file_wrapper_response_with_a_refused_header_gives_500_and_its_worker_serves_on()
    {
        await using var server = await TapsterServer.StartAsync("probe:app", OneWorker);
        var pid = await server.Client.GetTextAsync("/pid");
        using (var r = await server.Client.GetAsync("/hop-by-hop?file=1"))
            Assert.Equal(HttpStatusCode.InternalServerError, r.StatusCode);

        await server.WaitForEventAsync(e => e.Str("event") == "response.invalid" && e.Str("reason")!.Contains("hop-by-hop header 'Connection'", StringComparison.Ordinal), Http.Short);
        Assert.Equal(pid, await server.Client.GetTextAsync("/pid"));
        Assert.Empty(server.Events("worker.crashed"));
    }

    [Fact]
    public async Task Error_responses_made_by_the_server_carry_the_request_id_too()
    {
        await using var server = await TapsterServer.StartAsync("probe:app", OneWorker);
        using var r = await server.Client.GetAsync("/hop-by-hop");
        Assert.Equal(HttpStatusCode.InternalServerError, r.StatusCode);
        Assert.False(string.IsNullOrEmpty(r.Header("X-Request-ID")), "the 500 for a refused response has no X-Request-ID");
    }

    static async Task AssertFramingErrorClosesTheConnectionAsync(string path, int declaredLength)
    {
        await using var server = await TapsterServer.StartAsync("probe:app", OneWorker);
        using var raw = await RawHttp.ConnectAsync(server.Port);
        await raw.SendAsync(RawHttp.Get(path) + RawHttp.Get("/"));
        Assert.True(await raw.ReadUntilClosedAsync(Http.Short), "the connection stayed open:\n" + raw.Text);
        Assert.True(raw.StatusLineCount <= 1, "the second request was answered on a broken connection:\n" + raw.Text);
        var text = raw.Text;
        var headEnd = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        if (headEnd >= 0)
        {
            var body = text[(headEnd + 4)..];
            Assert.True(body.Length <= declaredLength, $"{body.Length} body bytes sent for Content-Length {declaredLength}");
        }
        // The server itself is fine.
        Assert.Equal("ok", await server.Client.GetTextAsync("/"));
    }

    [Fact]
    public async Task A_list_body_longer_than_its_Content_Length_delivers_the_declared_bytes_then_closes()
    {
        await using var server = await TapsterServer.StartAsync("probe:app", OneWorker);
        using var raw = await RawHttp.ConnectAsync(server.Port);
        await raw.SendAsync(RawHttp.Get("/long-body"));

        Assert.True(await raw.ReadUntilClosedAsync(Http.Short), "the connection stayed open:\n" + raw.Text);
        Assert.StartsWith("HTTP/1.1 200 ", raw.Text, StringComparison.Ordinal);
        Assert.EndsWith("\r\n\r\nxxxxx", raw.Text, StringComparison.Ordinal);
        await server.WaitForEventAsync(e => e.Str("event") == "response.overlong", Http.Short);
    }

    [Fact]
    public Task A_body_shorter_than_its_Content_Length_closes_the_connection() =>
        AssertFramingErrorClosesTheConnectionAsync("/short-body", 100);

    [Fact]
    public Task A_body_longer_than_its_Content_Length_is_not_sent_past_it_and_closes_the_connection() =>
        AssertFramingErrorClosesTheConnectionAsync("/long-body", 5);

    [Fact]
    public async Task A_second_start_response_with_exc_info_after_the_headers_aborts_the_response()
    {
        await using var server = await TapsterServer.StartAsync("probe:app", OneWorker);
        using var raw = await RawHttp.ConnectAsync(server.Port);
        await raw.SendAsync(RawHttp.Get("/exc-info"));
        // PEP 3333: headers were sent, so start_response must re-raise; the server then cannot finish
        // the response and must abort it (or, had it buffered, answer 500). Never a clean 200.
        await raw.ReadUntilAsync(t => t.Contains("\r\n0\r\n\r\n", StringComparison.Ordinal), Http.Short);
        var text = raw.Text;
        Assert.DoesNotContain("not-reraised", text, StringComparison.Ordinal);
        // An abort may be a reset that discards what the client had not read yet: then nothing arrives.
        var aborted = raw.Closed && !text.Contains("\r\n0\r\n\r\n", StringComparison.Ordinal)
            && (text.Length == 0 || text.StartsWith("HTTP/1.1 200", StringComparison.Ordinal));
        var error500 = text.StartsWith("HTTP/1.1 500", StringComparison.Ordinal);
        Assert.True(aborted || error500, "expected an aborted response or a 500:\n" + text);
        await server.WaitForLogAsync(l => l.Contains("exc-info-4244", StringComparison.Ordinal), Http.Short);
    }

    [Fact]
    public async Task A_garbage_request_line_gets_400_and_the_server_keeps_serving()
    {
        await using var server = await TapsterServer.StartAsync("probe:app", OneWorker);
        using (var raw = await RawHttp.ConnectAsync(server.Port))
        {
            await raw.SendAsync("THIS IS NOT HTTP AT ALL\r\n\r\n");
            await raw.ReadUntilAsync(t => t.Contains("\r\n\r\n", StringComparison.Ordinal), Http.Short);
            Assert.StartsWith("HTTP/1.1 400", raw.Text, StringComparison.Ordinal);
        }
        using var r = await server.Client.GetAsync("/");
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
    }

    [Fact]
    public async Task A_100_KB_header_gets_431_and_the_server_keeps_serving()
    {
        await using var server = await TapsterServer.StartAsync("probe:app", OneWorker);
        using (var raw = await RawHttp.ConnectAsync(server.Port))
        {
            try
            {
                await raw.SendAsync(RawHttp.Get("/", "X-Big: " + new string('a', 100 * 1024) + "\r\n"));
            }
            catch (IOException) { } // the server may answer and close before reading it all
            await raw.ReadUntilAsync(t => t.Contains("\r\n\r\n", StringComparison.Ordinal), Http.Short);
            Assert.StartsWith("HTTP/1.1 431", raw.Text, StringComparison.Ordinal);
        }
        using var r = await server.Client.GetAsync("/");
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
    }
}

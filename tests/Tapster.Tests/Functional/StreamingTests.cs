using System.Diagnostics;
using System.Net;

namespace Tapster.Tests.Functional;

[Collection(FunctionalGroup.Name)]
public class StreamingTests(SharedProbeServer shared)
{
    TapsterServer Server => shared.Server;

    [Fact]
    public async Task A_streamed_response_reaches_the_client_chunk_by_chunk()
    {
        // The app sleeps 1 s between chunks: each one must be read before the next exists. (No elapsed-time
        // arithmetic: on a busy machine the first chunk itself can be late.)
        using var raw = await RawHttp.ConnectAsync(Server.Port);
        await raw.SendAsync(RawHttp.Get("/stream?n=3&delay=1"));
        Assert.True(await raw.ReadUntilAsync(t => t.Contains("chunk0", StringComparison.Ordinal), Http.Short), raw.Text);
        Assert.DoesNotContain("chunk1", raw.Text, StringComparison.Ordinal);
        Assert.True(await raw.ReadUntilAsync(t => t.Contains("chunk1", StringComparison.Ordinal), Http.Short), raw.Text);
        Assert.DoesNotContain("chunk2", raw.Text, StringComparison.Ordinal);
        Assert.DoesNotContain("\r\n0\r\n\r\n", raw.Text, StringComparison.Ordinal);
        Assert.True(await raw.ReadUntilAsync(t => t.Contains("\r\n0\r\n\r\n", StringComparison.Ordinal), Http.Short), raw.Text);
        Assert.Contains("chunk2", raw.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Server_sent_events_arrive_one_by_one()
    {
        using var raw = await RawHttp.ConnectAsync(Server.Port);
        await raw.SendAsync(RawHttp.Get("/sse"));
        Assert.True(await raw.ReadUntilAsync(t => t.Contains("data: event0", StringComparison.Ordinal), Http.Short), raw.Text);
        Assert.DoesNotContain("event1", raw.Text, StringComparison.Ordinal);
        Assert.Contains("text/event-stream", raw.Text, StringComparison.OrdinalIgnoreCase);
        Assert.True(await raw.ReadUntilAsync(t => t.Contains("data: event1", StringComparison.Ordinal), Http.Short), raw.Text);
        Assert.DoesNotContain("event2", raw.Text, StringComparison.Ordinal);
        Assert.True(await raw.ReadUntilAsync(t => t.Contains("data: event2", StringComparison.Ordinal), Http.Short), raw.Text);
    }

    [Fact]
    public async Task Close_is_called_on_the_app_iterable_when_the_client_disconnects_mid_stream()
    {
        var before = int.Parse(await Server.Client.GetTextAsync("/close-count"), System.Globalization.CultureInfo.InvariantCulture);
        using (var raw = await RawHttp.ConnectAsync(Server.Port))
        {
            await raw.SendAsync(RawHttp.Get("/close-tracker?n=200&delay=0.05"));
            Assert.True(await raw.ReadUntilAsync(t => t.Contains("tick1", StringComparison.Ordinal), Http.Short), raw.Text);
            raw.Socket.LingerState = new System.Net.Sockets.LingerOption(true, 0); // reset, not a polite FIN
        }
        var sw = Stopwatch.StartNew();
        var after = before;
        while (sw.Elapsed < TimeSpan.FromSeconds(8) && after == before)
        {
            await Task.Delay(100);
            after = int.Parse(await Server.Client.GetTextAsync("/close-count"), System.Globalization.CultureInfo.InvariantCulture);
        }
        Assert.True(after == before + 1, $"close() count went from {before} to {after} within {sw.Elapsed} (the stream takes 10 s if never stopped)");

        // Logged with the status that went out and the bytes that did, and no error: a client leaving is
        // no fault of the server's.
        var access = await Server.WaitForEventAsync(e => e.Str("event") == "access" && e.Str("path") == "/close-tracker", Http.Short);
        Assert.Equal(200, access.GetProperty("status").GetInt32());
        Assert.True(access.GetProperty("bytes").GetInt64() > 0, access.GetRawText());
        Assert.Equal("ok", await Server.Client.GetTextAsync("/"));
        Assert.DoesNotContain(Server.Events(), e => e.Str("level") == "error" && e.GetRawText().Contains("close-tracker", StringComparison.Ordinal)
            || e.Str("event") == "ApplicationError");
    }

    [Fact]
    public async Task HEAD_gets_the_same_headers_and_no_body()
    {
        using var get = await Server.Client.GetAsync("/health");
        using var headReq = new HttpRequestMessage(HttpMethod.Head, "/health");
        using var head = await Server.Client.SendAsync(headReq);
        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        Assert.Equal(get.Content.Headers.ContentType?.MediaType, head.Content.Headers.ContentType?.MediaType);
        Assert.Equal(get.Content.Headers.ContentLength, head.Content.Headers.ContentLength);

        using var raw = await RawHttp.ConnectAsync(Server.Port);
        await raw.SendAsync("HEAD /health HTTP/1.1\r\nHost: x\r\n\r\n" + RawHttp.Get("/", "Connection: close\r\n"));
        Assert.True(await raw.ReadUntilClosedAsync(Http.Short), raw.Text);
        // The HEAD answer has no body, so the next bytes are the second response's status line.
        var text = raw.Text;
        var firstEnd = text.IndexOf("\r\n\r\n", StringComparison.Ordinal) + 4;
        Assert.StartsWith("HTTP/1.1 200", text[firstEnd..], StringComparison.Ordinal);
        Assert.EndsWith("ok", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_file_wrapper_response_is_served_byte_for_byte()
    {
        var expected = await Server.Client.GetJsonAsync("/file-sha");
        var body = await Server.Client.GetByteArrayAsync("/file");
        Assert.Equal(expected.GetProperty("size").GetInt32(), body.Length);
        Assert.Equal(expected.Str("sha256"), Http.Sha256Hex(body));
    }

    [Theory]
    [InlineData("path")]
    [InlineData("write")]
    public async Task A_file_wrapper_over_a_descriptor_that_gives_no_right_to_read_is_refused_with_500(string mode)
    {
        using var r = await Server.Client.GetAsync("/fd-file?mode=" + mode);

        Assert.Equal(HttpStatusCode.InternalServerError, r.StatusCode);
        Assert.Equal("Internal Server Error\n", await r.Content.ReadAsStringAsync());
        await Server.WaitForEventAsync(e => e.Str("event") == "response.invalid" && e.Str("reason")!.Contains("is not open for reading", StringComparison.Ordinal), Http.Short);
    }

    [Fact]
    public async Task A_file_wrapper_download_the_client_cuts_short_is_logged_with_the_bytes_that_got_out()
    {
        Assert.True(await RawHttp.AbandonDownloadAsync(Server.Port, "/big-file?mb=32"));

        var access = await Server.WaitForEventAsync(e => e.Str("event") == "access" && e.Str("path") == "/big-file", Http.Short);
        Assert.Equal(200, access.GetProperty("status").GetInt32());
        Assert.True(access.GetProperty("bytes").GetInt64() is > 100_000 and < 32 * 1024 * 1024, access.GetRawText());
    }

    [Fact]
    public async Task The_legacy_write_callable_sends_its_data_before_the_returned_iterable()
    {
        Assert.Equal("written-1\nwritten-2\nreturned\n", await Server.Client.GetTextAsync("/write"));
    }
}

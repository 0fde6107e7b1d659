using System.Net;
using System.Text;
using System.Text.Json;

namespace Tapster.Tests.Functional;

[Collection(FunctionalGroup.Name)]
public class BodyTests(SharedProbeServer shared)
{
    TapsterServer Server => shared.Server;

    static byte[] RandomBytes(int size, int seed)
    {
        var data = new byte[size];
        new Random(seed).NextBytes(data);
        return data;
    }

    static async Task<JsonElement> JsonOf(HttpResponseMessage r)
    {
        var text = await r.Content.ReadAsStringAsync();
        Assert.True(r.StatusCode == HttpStatusCode.OK, $"{(int)r.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    [Fact]
    public async Task A_5_MB_upload_above_the_spool_threshold_reaches_the_app_intact()
    {
        var data = RandomBytes(5 * 1024 * 1024, 1);
        using var content = new ByteArrayContent(data);
        using var r = await Server.Client.PostAsync("/echo", content);
        var json = await JsonOf(r);
        Assert.Equal(data.Length, json.GetProperty("bytes").GetInt32());
        Assert.Equal(Http.Sha256Hex(data), json.Str("sha256"));
        Assert.Equal("5242880", json.Str("content_length"));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(16 * 1024)] // past the slot's own buffer for the request head
    [InlineData(1024 * 1024)] // the largest body sent inline, after the head
    [InlineData(1024 * 1024 + 1)] // the smallest spooled one
    public async Task An_upload_on_either_side_of_the_spool_threshold_reaches_the_app_intact(int size)
    {
        var data = RandomBytes(size, size);
        using var content = new ByteArrayContent(data);
        using var r = await Server.Client.PostAsync("/echo", content);
        var json = await JsonOf(r);
        Assert.Equal(size, json.GetProperty("bytes").GetInt32());
        Assert.Equal(Http.Sha256Hex(data), json.Str("sha256"));
    }

    [Fact]
    public async Task A_5_MB_upload_read_by_flask_get_data_is_intact()
    {
        var data = RandomBytes(5 * 1024 * 1024, 2);
        using var content = new ByteArrayContent(data);
        using var r = await Server.Client.PostAsync("/echo?via=flask", content);
        var json = await JsonOf(r);
        Assert.Equal(Http.Sha256Hex(data), json.Str("sha256"));
    }

    [Theory]
    [InlineData("/echo")]
    [InlineData("/echo?via=flask")] // Werkzeug reads a body it believes chunked as empty
    [InlineData("/echo?via=flask&small=1")]
    public async Task A_chunked_upload_reaches_the_app_intact(string path)
    {
        var data = RandomBytes(path.Contains("small", StringComparison.Ordinal) ? 1000 : 3 * 1024 * 1024 + 17, 3);
        using var req = new HttpRequestMessage(HttpMethod.Post, path) { Content = ChunkedContent.Of(data) };
        req.Headers.TransferEncodingChunked = true;
        using var r = await Server.Client.SendAsync(req);
        var json = await JsonOf(r);
        Assert.Equal(data.Length, json.GetProperty("bytes").GetInt32());
        Assert.Equal(Http.Sha256Hex(data), json.Str("sha256"));
    }

    [Fact]
    public async Task The_app_can_read_the_body_line_by_line_with_readline()
    {
        var body = "first line\n" + new string('x', 200_000) + "\nlast line without newline";
        using var content = new StringContent(body, Encoding.Latin1, "text/plain");
        using var r = await Server.Client.PostAsync("/lines", content);
        var json = await JsonOf(r);
        Assert.Equal(3, json.GetProperty("lines").GetInt32());
        Assert.Equal("first line\n", json.Str("first"));
    }

    [Fact]
    public async Task A_body_over_max_body_size_gets_413_without_reaching_the_app()
    {
        await using var server = await TapsterServer.StartAsync("probe:app", "--workers", "1", "--threads", "2", "--max-body-size", "1");
        using (var small = new ByteArrayContent(RandomBytes(512 * 1024, 4)))
        using (var ok = await server.Client.PostAsync("/echo", small))
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);

        using var big = new ByteArrayContent(RandomBytes(2 * 1024 * 1024, 5));
        using var r = await server.Client.PostAsync("/echo", big);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, r.StatusCode);
        var text = await r.Content.ReadAsStringAsync();
        Assert.DoesNotContain("sha256", text, StringComparison.Ordinal);
        // The access line for the refused request names no worker.
        var access = await server.WaitForEventAsync(e => e.Str("event") == "access" && e.GetProperty("status").GetInt32() == 413, Http.Short);
        Assert.True(!access.TryGetProperty("worker_pid", out var pid) || pid.ValueKind == JsonValueKind.Null,
            "a worker handled the 413 request: " + access.GetRawText());
    }

    [Fact]
    public async Task Max_body_size_0_means_no_limit_as_in_nginx()
    {
        await using var server = await TapsterServer.StartAsync("probe:app", "--workers", "1", "--max-body-size", "0");
        var body = RandomBytes(120 * 1024 * 1024, 6); // past the 100 MiB default
        using var content = new ByteArrayContent(body);
        using var r = await server.Client.PostAsync("/echo", content);

        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.Contains(Http.Sha256Hex(body), await r.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_client_still_sending_a_body_declared_too_large_can_finish_and_reads_the_413()
    {
        // As a browser uploads a file: the whole declared body goes out before the answer is read.
        // Without a lingering close the kernel resets the connection on the unread data, and the
        // client's send fails (and many clients then drop the 413 they had received).
        await using var server = await TapsterServer.StartAsync("probe:app", "--workers", "1", "--max-body-size", "1");
        const int Size = 8 * 1024 * 1024;
        using var raw = await RawHttp.ConnectAsync(server.Port);
        await raw.SendAsync($"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: {Size}\r\n\r\n");
        var chunk = new byte[64 * 1024];
        for (var sent = 0; sent < Size; sent += chunk.Length)
        {
            await raw.SendAsync(chunk); // throws if the server reset the connection
        }

        Assert.True(await raw.ReadUntilClosedAsync(Http.Short), raw.Text);
        Assert.StartsWith("HTTP/1.1 413 ", raw.Text, StringComparison.Ordinal);
        Assert.Contains("Connection: close", raw.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_chunked_body_over_max_body_size_gets_413_too()
    {
        await using var server = await TapsterServer.StartAsync("probe:app", "--workers", "1", "--threads", "2", "--max-body-size", "1");
        using var req = new HttpRequestMessage(HttpMethod.Post, "/echo") { Content = ChunkedContent.Of(RandomBytes(2 * 1024 * 1024, 6)) };
        req.Headers.TransferEncodingChunked = true;
        HttpStatusCode status;
        try
        {
            using var r = await server.Client.SendAsync(req);
            status = r.StatusCode;
        }
        catch (HttpRequestException)
        {
            status = 0; // the server may cut the upload short after answering: acceptable
        }
        Assert.True(status is HttpStatusCode.RequestEntityTooLarge or 0, $"got {(int)status}");
        Assert.DoesNotContain(server.Events("access"), e => e.GetProperty("status").GetInt32() == 200 && e.Str("path") == "/echo");
    }
    [Fact]
    public async Task A_body_that_cannot_be_spooled_is_a_logged_500_not_the_clients_fault()
    {
        var tmp = Directory.CreateTempSubdirectory("tapster-spool-").FullName;
        try
        {
            await using var server = await TapsterServer.StartAsync("probe:app", new Dictionary<string, string> { ["TMPDIR"] = tmp }, "--workers", "1", "--threads", "2");
            // Tapster's private runtime directory (worker socket, spooled bodies) is cleaned away, as
            // systemd-tmpfiles may do to /tmp; a full disk takes the same path.
            Directory.Delete(Assert.Single(Directory.GetDirectories(tmp, "tapster-*")), recursive: true);

            using var big = new ByteArrayContent(RandomBytes(2 * 1024 * 1024, 7));
            try
            {
                using var r = await server.Client.PostAsync("/echo", big);
                Assert.Equal(HttpStatusCode.InternalServerError, r.StatusCode);
                Assert.Contains("could not be stored", await r.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            }
            catch (HttpRequestException)
            {
                // The answer comes before the upload ends and the connection closes: the client may see
                // the reset first. The server's side below is what must hold.
            }

            var logged = await server.WaitForEventAsync(e => e.Str("event") == "request.spool_failed", Http.Short);
            Assert.Contains("body-", logged.Str("reason"), StringComparison.Ordinal);
            var access = await server.WaitForEventAsync(e => e.Str("event") == "access" && e.Str("path") == "/echo", Http.Short);
            Assert.Equal(500, access.GetProperty("status").GetInt32());

            // Bodies under the spool threshold never touch the disk: they still reach the app.
            using var small = new ByteArrayContent(RandomBytes(64 * 1024, 8));
            using var ok = await server.Client.PostAsync("/echo", small);
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }
        finally
        {
            Directory.Delete(tmp, recursive: true);
        }
    }
}

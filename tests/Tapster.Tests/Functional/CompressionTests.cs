using System.IO.Compression;
using System.Net;
using System.Text;

namespace Tapster.Tests.Functional;

[Collection(FunctionalGroup.Name)]
public class CompressionTests(SharedProbeServer shared)
{
    const string BrowserAcceptEncoding = "gzip, deflate, br, zstd";

    TapsterServer Server => shared.Server;

    [Fact]
    public async Task A_large_text_response_goes_out_as_brotli_to_a_browser_and_decodes_to_the_apps_bytes()
    {
        var identity = await Server.Client.GetByteArrayAsync("/text?size=20000");
        using var response = await GetAsync("/text?size=20000", BrowserAcceptEncoding);
        var body = await response.Content.ReadAsByteArrayAsync();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("br", response.Header("Content-Encoding"));
        Assert.Contains("Accept-Encoding", response.Header("Vary"), StringComparison.Ordinal);
        Assert.True(body.Length < identity.Length / 10, $"{body.Length} compressed bytes for {identity.Length}");
        Assert.Equal(identity, Decode("br", body));
    }

    [Fact]
    public async Task A_client_that_prefers_gzip_gets_gzip()
    {
        using var response = await GetAsync("/text?size=5000&type=application/json", "br;q=0.5, gzip");
        Assert.Equal("gzip", response.Header("Content-Encoding"));
        var text = Encoding.UTF8.GetString(Decode("gzip", await response.Content.ReadAsByteArrayAsync()));
        Assert.Equal(5000, text.Length);
        Assert.StartsWith("The quick brown fox", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_client_without_Accept_Encoding_gets_identity_with_its_length_and_Vary()
    {
        using var response = await GetAsync("/text?size=5000", null);
        Assert.Null(response.Header("Content-Encoding"));
        Assert.Equal(5000, response.Content.Headers.ContentLength);
        Assert.Equal(5000, (await response.Content.ReadAsByteArrayAsync()).Length);
        Assert.Contains("Accept-Encoding", response.Header("Vary"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_small_response_is_sent_as_the_app_wrote_it()
    {
        using var response = await GetAsync("/text?size=500", BrowserAcceptEncoding);
        Assert.Null(response.Header("Content-Encoding"));
        Assert.Null(response.Header("Vary"));
        Assert.Equal(500, response.Content.Headers.ContentLength);
    }

    [Theory]
    [InlineData("/text?size=5000&type=image/png")]
    [InlineData("/text?size=5000&cc=public,%20no-transform")]
    [InlineData("/text?size=5000&status=206")]
    public async Task A_response_that_must_not_be_transformed_is_left_alone(string path)
    {
        using var response = await GetAsync(path, BrowserAcceptEncoding);
        Assert.Null(response.Header("Content-Encoding"));
        Assert.Equal(5000, response.Content.Headers.ContentLength);
    }

    [Fact]
    public async Task A_body_the_app_encoded_itself_is_not_encoded_twice()
    {
        using var response = await GetAsync("/text?size=5000&ce=identity", BrowserAcceptEncoding);
        Assert.Equal("identity", response.Header("Content-Encoding"));
        Assert.Equal(5000, (await response.Content.ReadAsByteArrayAsync()).Length);
    }

    [Fact]
    public async Task A_compressed_response_gets_a_weak_ETag_and_the_identity_one_keeps_the_strong_one()
    {
        using var compressed = await GetAsync("/text?size=5000&etag=v1", "gzip");
        Assert.Equal("W/\"v1\"", compressed.Header("ETag"));
        using var identity = await GetAsync("/text?size=5000&etag=v1", null);
        Assert.Equal("\"v1\"", identity.Header("ETag"));
    }

    [Fact]
    public async Task HEAD_gets_the_identity_headers_and_Vary()
    {
        using var request = new HttpRequestMessage(HttpMethod.Head, "/text?size=5000");
        request.Headers.TryAddWithoutValidation("Accept-Encoding", BrowserAcceptEncoding);
        using var response = await Server.Client.SendAsync(request);
        Assert.Null(response.Header("Content-Encoding"));
        Assert.Equal(5000, response.Content.Headers.ContentLength);
        Assert.Contains("Accept-Encoding", response.Header("Vary"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_compressed_response_is_chunked_on_the_wire_without_a_Content_Length()
    {
        using var raw = await RawHttp.ConnectAsync(Server.Port);
        await raw.SendAsync(RawHttp.Get("/text?size=5000", "Accept-Encoding: gzip\r\n"));
        Assert.True(await raw.ReadUntilAsync(t => t.Contains("\r\n0\r\n\r\n", StringComparison.Ordinal), Http.Short), raw.Text);
        var head = raw.Text[..raw.Text.IndexOf("\r\n\r\n", StringComparison.Ordinal)];
        Assert.Contains("Transfer-Encoding: chunked", head, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("Content-Length", head, StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [InlineData("gzip")]
    [InlineData("br")]
    public async Task A_compressed_stream_still_reaches_the_client_chunk_by_chunk(string coding)
    {
        using var response = await GetAsync("/stream?n=2&delay=2", coding, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(coding, response.Header("Content-Encoding"));
        await using var decoded = Decoder(coding, await response.Content.ReadAsStreamAsync());
        using var timeout = new CancellationTokenSource(Http.Short);
        var buffer = new byte[1024];
        // The app sleeps 2 s between its chunks: a first read holding only chunk0 was decoded before chunk1 existed.
        var read = await decoded.ReadAsync(buffer, timeout.Token);
        Assert.Equal("chunk0\n", Encoding.UTF8.GetString(buffer, 0, read));
        using var rest = new StreamReader(decoded);
        Assert.Equal("chunk1\n", await rest.ReadToEndAsync(timeout.Token));
    }

    [Fact]
    public async Task Server_sent_events_are_not_compressed_and_arrive_one_by_one()
    {
        using var raw = await RawHttp.ConnectAsync(Server.Port);
        await raw.SendAsync(RawHttp.Get("/sse", $"Accept-Encoding: {BrowserAcceptEncoding}\r\n"));
        Assert.True(await raw.ReadUntilAsync(t => t.Contains("data: event0", StringComparison.Ordinal), Http.Short), raw.Text);
        Assert.DoesNotContain("event1", raw.Text, StringComparison.Ordinal);
        Assert.DoesNotContain("Content-Encoding", raw.Text, StringComparison.OrdinalIgnoreCase);
        Assert.True(await raw.ReadUntilAsync(t => t.Contains("data: event1", StringComparison.Ordinal), Http.Short), raw.Text);
    }

    [Fact]
    public async Task A_file_wrapper_text_file_is_compressed_from_disk()
    {
        var expected = await Server.Client.GetJsonAsync("/file-sha");
        using var response = await GetAsync("/file?type=text/csv", "br");
        Assert.Equal("br", response.Header("Content-Encoding"));
        var body = Decode("br", await response.Content.ReadAsByteArrayAsync());
        Assert.Equal(expected.Str("sha256"), Http.Sha256Hex(body));
    }

    [Fact]
    public async Task A_file_wrapper_binary_file_is_sent_as_it_is()
    {
        using var response = await GetAsync("/file", BrowserAcceptEncoding);
        Assert.Null(response.Header("Content-Encoding"));
        Assert.Equal(200 * 1024, response.Content.Headers.ContentLength);
    }

    [Fact]
    public async Task With_no_compression_every_body_goes_out_as_the_app_wrote_it()
    {
        await using var server = await TapsterServer.StartAsync("probe:app", "--workers", "1", "--no-compression");
        using var request = new HttpRequestMessage(HttpMethod.Get, "/text?size=20000");
        request.Headers.TryAddWithoutValidation("Accept-Encoding", BrowserAcceptEncoding);
        using var response = await server.Client.SendAsync(request);
        Assert.Null(response.Header("Content-Encoding"));
        Assert.Null(response.Header("Vary"));
        Assert.Equal(20000, (await response.Content.ReadAsByteArrayAsync()).Length);
    }

    async Task<HttpResponseMessage> GetAsync(string path, string? acceptEncoding, HttpCompletionOption completion = HttpCompletionOption.ResponseContentRead)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (acceptEncoding is not null)
        {
            request.Headers.TryAddWithoutValidation("Accept-Encoding", acceptEncoding);
        }

        return await Server.Client.SendAsync(request, completion);
    }

    static byte[] Decode(string coding, byte[] body)
    {
        using var decoder = Decoder(coding, new MemoryStream(body));
        using var plain = new MemoryStream();
        decoder.CopyTo(plain);
        return plain.ToArray();
    }

    static Stream Decoder(string coding, Stream compressed) => coding == "br"
        ? new BrotliStream(compressed, CompressionMode.Decompress)
        : new GZipStream(compressed, CompressionMode.Decompress);
}

using System.Net;

namespace Tapster.Tests.Functional;

[Collection(FunctionalGroup.Name)]
public class Http2Tests(SharedProbeServer shared)
{
    // Kestrel answers an h2c prior-knowledge connection with GOAWAY HTTP_1_1_REQUIRED: the endpoint
    // offers HTTP/1.1 and HTTP/2, and without TLS (ALPN) Kestrel falls back to HTTP/1.1 only.
    [Fact]
    public async Task HTTP_2_with_prior_knowledge_over_cleartext_is_served()
    {
        using var client = new HttpClient
        {
            BaseAddress = shared.Server.BaseAddress,
            DefaultRequestVersion = HttpVersion.Version20,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Timeout = TimeSpan.FromSeconds(10),
        };
        using var r = await client.GetAsync("/");
        Assert.Equal(HttpVersion.Version20, r.Version);
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.Equal("ok", await r.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("/a b")]
    [InlineData("/a\u0001b")]
    [InlineData("/?q=\u007f")]
    [InlineData("/\u00ff\u00fe")]
    public async Task An_HTTP_2_path_with_a_space_a_control_character_or_a_non_ASCII_byte_gets_400_as_over_HTTP_1_1(string path)
    {
        Assert.Equal(200, await RawHttp2.GetStatusAsync(shared.Server.Port, "/"));

        Assert.Equal(400, await RawHttp2.GetStatusAsync(shared.Server.Port, path));
    }
}

/// <summary>The edge features are not HTTP/1.1 only: the same rules over h2c.</summary>
[Collection(FunctionalGroup.Name)]
public class Http2EdgeTests
{
    static HttpClient H2c(TapsterServer server) => new(new SocketsHttpHandler { AutomaticDecompression = DecompressionMethods.None })
    {
        BaseAddress = server.BaseAddress,
        DefaultRequestVersion = HttpVersion.Version20,
        DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
        Timeout = TimeSpan.FromSeconds(10),
    };

    /// <summary>A request built by hand does not take the client's default version: it is set here.</summary>
    static HttpRequestMessage H2Request(string path, (string Name, string Value) header) =>
        new(HttpMethod.Get, path)
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Headers = { { header.Name, header.Value } },
        };

    [Fact]
    public async Task Over_h2c_forwarded_headers_rate_limits_and_compression_apply_as_over_HTTP_1_1()
    {
        await using var server = await TapsterServer.StartAsync("probe:app", "--workers", "1",
            "--forwarded-allow-ips", "127.0.0.1", "--rate-limit", "/environ=2/m");
        using var client = H2c(server);

        using var first = H2Request("/environ", ("X-Forwarded-For", "203.0.113.7"));
        using var forwarded = await client.SendAsync(first);
        Assert.Equal(HttpVersion.Version20, forwarded.Version);
        using var environ = System.Text.Json.JsonDocument.Parse(await forwarded.Content.ReadAsStringAsync());
        Assert.Equal("203.0.113.7", environ.RootElement.GetProperty("REMOTE_ADDR").GetString());

        // The forwarded client had its own bucket; this one (the proxy itself) has two requests too.
        using var second = await client.GetAsync("/environ");
        using var third = await client.GetAsync("/environ");
        using var fourth = await client.GetAsync("/environ");
        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests], [second.StatusCode, third.StatusCode, fourth.StatusCode]);
        Assert.NotNull(fourth.Headers.RetryAfter);

        using var compressed = H2Request("/text", ("Accept-Encoding", "br"));
        using var text = await client.SendAsync(compressed);
        Assert.Equal(HttpVersion.Version20, text.Version);
        Assert.Equal(["br"], text.Content.Headers.ContentEncoding);
    }
}

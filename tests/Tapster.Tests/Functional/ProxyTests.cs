using System.Net;
using System.Text;
using System.Text.Json;

namespace Tapster.Tests.Functional;

/// <summary>Behind a load balancer: who the app is told the client is, from whom it is believed, and the PROXY protocol.</summary>
[Collection(FunctionalGroup.Name)]
public sealed class ProxyTests(SharedProbeServer shared)
{
    static async Task<JsonElement> EnvironAsync(HttpClient client, params (string Name, string Value)[] headers)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/environ");
        foreach (var (name, value) in headers) request.Headers.TryAddWithoutValidation(name, value);
        using var r = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        return JsonDocument.Parse(await r.Content.ReadAsStringAsync()).RootElement.Clone();
    }

    [Fact]
    public async Task Without_trusted_proxies_forwarding_headers_never_reach_the_app()
    {
        var environ = await EnvironAsync(shared.Server.Client,
            ("X-Forwarded-For", "203.0.113.9"), ("X-Forwarded-Proto", "https"), ("X-Forwarded-Host", "evil.test"),
            ("Forwarded", "for=203.0.113.9"), ("X-Real-IP", "203.0.113.9"));

        Assert.Equal("127.0.0.1", environ.Str("REMOTE_ADDR"));
        Assert.Equal("http", environ.Str("wsgi.url_scheme"));
        Assert.StartsWith("127.0.0.1:", environ.Str("HTTP_HOST"), StringComparison.Ordinal);
        foreach (var key in new[] { "HTTP_X_FORWARDED_FOR", "HTTP_X_FORWARDED_PROTO", "HTTP_X_FORWARDED_HOST", "HTTP_FORWARDED", "HTTP_X_REAL_IP" })
        {
            Assert.Null(environ.Str(key));
        }
    }

    [Fact]
    public async Task From_a_trusted_proxy_the_app_sees_the_client_scheme_and_host_and_so_does_the_log()
    {
        await using var server = await TapsterServer.StartAsync("probe:app", "--workers", "1", "--forwarded-allow-ips", "127.0.0.0/8");

        var environ = await EnvironAsync(server.Client,
            ("X-Forwarded-For", "6.6.6.6, 203.0.113.9, 127.0.0.5"), ("X-Forwarded-Proto", "https"), ("X-Forwarded-Host", "shop.example"));
        var rfc = await EnvironAsync(server.Client, ("Forwarded", "for=\"[2001:db8::17]:4711\";proto=https;host=shop.example"));

        Assert.Equal("203.0.113.9", environ.Str("REMOTE_ADDR"));
        Assert.Equal("https", environ.Str("wsgi.url_scheme"));
        Assert.Equal("shop.example", environ.Str("HTTP_HOST"));
        Assert.Equal("2001:db8::17", rfc.Str("REMOTE_ADDR"));
        Assert.Equal("4711", rfc.Str("REMOTE_PORT"));
        // HTTPS as the client saw it: the security headers that belong to HTTPS come too.
        using var r = await server.Client.SendAsync(new HttpRequestMessage(HttpMethod.Get, "/") { Headers = { { "X-Forwarded-For", "203.0.113.9" }, { "X-Forwarded-Proto", "https" } } });
        Assert.True(r.Headers.Contains("Strict-Transport-Security"));
        await server.WaitForEventAsync(e => e.Str("event") == "access" && e.Str("remote") == "203.0.113.9", Http.Short);
    }

    static async Task<(TapsterServer Server, int ProxyPort)> StartBehindProxyProtocolAsync(string trusted)
    {
        var port = TapsterServer.FreePort();
        var server = await TapsterServer.StartAsync("probe:app", "--workers", "1",
            "--bind", $"127.0.0.1:{port}", "--proxy-protocol", $"127.0.0.1:{port}", "--forwarded-allow-ips", trusted);
        return (server, port);
    }

    static async Task<JsonElement> EnvironThroughAsync(int port, byte[] proxyHeader)
    {
        using var raw = await RawHttp.ConnectAsync(port);
        await raw.SendAsync([.. proxyHeader, .. Encoding.ASCII.GetBytes("GET /environ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")]);
        Assert.True(await raw.ReadUntilClosedAsync(Http.Short), raw.Text);
        Assert.StartsWith("HTTP/1.1 200 ", raw.Text, StringComparison.Ordinal);
        var body = raw.Text[(raw.Text.IndexOf("\r\n\r\n", StringComparison.Ordinal) + 4)..];
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    [Fact]
    public async Task A_PROXY_v1_or_v2_header_from_a_trusted_balancer_names_the_client()
    {
        var (server, port) = await StartBehindProxyProtocolAsync("127.0.0.1");
        await using var _ = server;

        var v1 = await EnvironThroughAsync(port, Encoding.ASCII.GetBytes("PROXY TCP4 192.0.2.10 127.0.0.1 56324 80\r\n"));
        var addresses = new byte[36];
        IPAddress.Parse("2001:db8::7").GetAddressBytes().CopyTo(addresses, 0);
        IPAddress.Parse("2001:db8::1").GetAddressBytes().CopyTo(addresses, 16);
        addresses[32] = 0x12;
        addresses[33] = 0x67;
        var v2 = await EnvironThroughAsync(port, Unit.Edge.Proxy.ProxyProtocolHeaderTests.V2(1, 0x21, addresses));
        var local = await EnvironThroughAsync(port, Unit.Edge.Proxy.ProxyProtocolHeaderTests.V2(0, 0x00, []));

        Assert.Equal(("192.0.2.10", "56324"), (v1.Str("REMOTE_ADDR"), v1.Str("REMOTE_PORT")));
        Assert.Equal(("2001:db8::7", "4711"), (v2.Str("REMOTE_ADDR"), v2.Str("REMOTE_PORT")));
        Assert.Equal("127.0.0.1", local.Str("REMOTE_ADDR"));
        // The plain listener beside it takes no PROXY header: it serves HTTP as always.
        Assert.Equal("ok", await server.Client.GetStringAsync("/"));
    }

    [Theory]
    [InlineData("127.0.0.1", "GET / HTTP/1.1\r\nHost: x\r\n\r\n", "did not start with a PROXY protocol header")]
    [InlineData("127.0.0.1", "PROXY TCP4 192.0.2.10 127.0.0.1 99999 80\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n", "malformed PROXY v1 line")]
    [InlineData("10.0.0.0/8", "PROXY TCP4 192.0.2.10 127.0.0.1 56324 80\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n", "not a trusted proxy")]
    public async Task A_connection_without_a_valid_header_from_a_trusted_balancer_is_closed_unanswered(string trusted, string sent, string reason)
    {
        var (server, port) = await StartBehindProxyProtocolAsync(trusted);
        await using var _ = server;
        RawHttp? raw = null;
        try
        {
            raw = await RawHttp.ConnectAsync(port);
            await raw.SendAsync(sent);
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException)
        {
            // Refused so fast that the reset beat the end of connect() or the send: closed unanswered, as it should be.
        }

        using (raw)
        {
            Assert.True(raw is null || await raw.ReadUntilClosedAsync(Http.Short), raw?.Text);
            Assert.Equal("", raw?.Text ?? "");
        }

        var refused = await server.WaitForEventAsync(e => e.Str("event") == "proxy_protocol.refused", Http.Short);
        Assert.Contains(reason, refused.Str("message"), StringComparison.Ordinal);
    }
}

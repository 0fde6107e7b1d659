using System.Diagnostics;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Tapster.Tests.Unit.Tls;

namespace Tapster.Tests.Functional;

[Collection(FunctionalGroup.Name)]
public sealed class TlsTests : IDisposable
{
    readonly string dir = Directory.CreateTempSubdirectory("tapster-tls-ft-").FullName;
    readonly X509Certificate2 main = TestCertificates.Create(["main.test", "www.main.test"]);
    readonly X509Certificate2 other = TestCertificates.Create(["*.other.test"]);

    /// <summary>Every certificate the tests made: a handshake checks it got one of them, and asserts which.</summary>
    readonly HashSet<string> trusted = [];

    public void Dispose() => Directory.Delete(dir, recursive: true);

    (string Config, int TlsPort) WriteConfig()
    {
        trusted.UnionWith([main.Thumbprint, other.Thumbprint]);
        TestCertificates.Write(dir, "main", main);
        TestCertificates.Write(dir, "other", other);
        var tlsPort = TapsterServer.FreePort();
        var config = Path.Combine(dir, "tapster.toml");
        File.WriteAllText(config, $$"""
            [tls]
            listen = ["127.0.0.1:{{tlsPort}}"]
            certificates = [{ cert = "main.pem", key = "main.key" }, { cert = "other.pem", key = "other.key" }]
            """);
        return (config, tlsPort);
    }

    static HttpClient Https(X509Certificate2 expected, int port, bool http2 = false) =>
        new(new SocketsHttpHandler
        {
            SslOptions = new SslClientAuthenticationOptions
            {
                RemoteCertificateValidationCallback = (_, cert, _, _) => cert is not null && cert.GetCertHashString() == expected.Thumbprint,
            },
        })
        {
            BaseAddress = new Uri($"https://127.0.0.1:{port}"),
            DefaultRequestVersion = http2 ? HttpVersion.Version20 : HttpVersion.Version11,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Timeout = TimeSpan.FromSeconds(30),
        };

    /// <summary>A raw handshake: the certificate served for SNI name <paramref name="host"/>, and the ALPN protocol agreed.</summary>
    async Task<(string Thumbprint, SslApplicationProtocol Alpn)> HandshakeAsync(int port, string host, SslProtocols protocols = SslProtocols.None)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, port);
        await using var ssl = new SslStream(tcp.GetStream(), false, (_, cert, _, _) => cert is not null && trusted.Contains(cert.GetCertHashString()));
        await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = host,
            EnabledSslProtocols = protocols,
            ApplicationProtocols = [SslApplicationProtocol.Http2, SslApplicationProtocol.Http11],
        });
        return (ssl.RemoteCertificate!.GetCertHashString(), ssl.NegotiatedApplicationProtocol);
    }

    [Fact]
    public async Task Https_serves_the_app_picks_certificates_by_sni_redirects_plain_http_and_reloads_changed_files()
    {
        var (config, tlsPort) = WriteConfig();
        var httpPort = TapsterServer.FreePort();
        var output = new List<string>();
        using var process = await Launch(config, tlsPort, httpPort, output);
        try
        {
            await Exercise(tlsPort, httpPort, output);
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
    }

    async Task Exercise(int tlsPort, int httpPort, List<string> output)
    {

        // The app sees https, over HTTP/1.1 and HTTP/2 (ALPN); HSTS only on HTTPS.
        using var https = Https(main, tlsPort);
        using var r = await https.GetAsync("/environ");
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        using var environ = JsonDocument.Parse(await r.Content.ReadAsStringAsync());
        Assert.Equal("https", environ.RootElement.GetProperty("wsgi.url_scheme").GetString());
        Assert.True(r.Headers.Contains("Strict-Transport-Security"));
        using var h2 = Https(main, tlsPort, http2: true);
        using var r2 = await h2.GetAsync("/");
        Assert.Equal(HttpVersion.Version20, r2.Version);

        // SNI: exact, wildcard, unknown and absent names.
        Assert.Equal((main.Thumbprint, SslApplicationProtocol.Http2), await HandshakeAsync(tlsPort, "www.main.test"));
        Assert.Equal(other.Thumbprint, (await HandshakeAsync(tlsPort, "api.other.test")).Thumbprint);
        Assert.Equal(main.Thumbprint, (await HandshakeAsync(tlsPort, "unknown.test")).Thumbprint);
        Assert.Equal(main.Thumbprint, (await HandshakeAsync(tlsPort, "")).Thumbprint);

#pragma warning disable SYSLIB0039, CA5397 // TLS 1.1 on purpose: the server must refuse it.
        await Assert.ThrowsAnyAsync<Exception>(() => HandshakeAsync(tlsPort, "main.test", SslProtocols.Tls11));
#pragma warning restore SYSLIB0039, CA5397

        // Plain HTTP: 308 to the same path and query on the TLS port, no HSTS; ACME challenges stay.
        using var plain = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false }) { BaseAddress = new Uri($"http://127.0.0.1:{httpPort}") };
        using var redirect = await plain.GetAsync("/environ/x?a=1&b=2");
        Assert.Equal(HttpStatusCode.PermanentRedirect, redirect.StatusCode);
        Assert.Equal($"https://127.0.0.1:{tlsPort}/environ/x?a=1&b=2", redirect.Headers.Location!.OriginalString);
        Assert.False(redirect.Headers.Contains("Strict-Transport-Security"));
        Assert.Equal(["nosniff"], redirect.Headers.GetValues("X-Content-Type-Options"));
        using var acme = await plain.GetAsync("/.well-known/acme-challenge/token123");
        Assert.Equal(HttpStatusCode.NotFound, acme.StatusCode);
        Assert.False(acme.Headers.Contains("Strict-Transport-Security"));
        // A challenge path only after Kestrel resolves its dot segments is not one: the app would route it elsewhere.
        using (var dotted = await RawHttp.ConnectAsync(httpPort))
        {
            await dotted.SendAsync(RawHttp.Get("/environ/../.well-known/acme-challenge/x", "Connection: close\r\n"));
            Assert.True(await dotted.ReadUntilClosedAsync(Http.Short), dotted.Text);
            Assert.StartsWith("HTTP/1.1 308 ", dotted.Text, StringComparison.Ordinal);
            // And the redirect keeps the target exactly as sent.
            Assert.Contains($"Location: https://127.0.0.1:{tlsPort}/environ/../.well-known/acme-challenge/x\r\n", dotted.Text, StringComparison.Ordinal);
        }

        // A renewed certificate on disk is served without a restart; a broken one keeps the old.
        File.WriteAllText(Path.Combine(dir, "main.key"), "broken");
        await WaitForOutputAsync(output, "tls.reload_failed");
        Assert.Equal(main.Thumbprint, (await HandshakeAsync(tlsPort, "main.test")).Thumbprint);
        var renewed = TestCertificates.Create(["main.test", "www.main.test"]);
        trusted.Add(renewed.Thumbprint);
        TestCertificates.Write(dir, "main", renewed);
        var sw = Stopwatch.StartNew();
        while ((await HandshakeAsync(tlsPort, "main.test")).Thumbprint != renewed.Thumbprint)
        {
            Assert.True(sw.Elapsed < TimeSpan.FromSeconds(20), "the renewed certificate was not served within 20 s");
            await Task.Delay(200);
        }
    }

    [Fact]
    public async Task A_key_that_does_not_match_its_certificate_stops_start_up_naming_the_file()
    {
        var (config, _) = WriteConfig();
        File.Copy(Path.Combine(dir, "other.key"), Path.Combine(dir, "main.key"), overwrite: true);

        var (code, _, stderr, _) = await TapsterServer.StartExpectingExitAsync("probe:app", ["--config", config]);

        Assert.Equal(2, code);
        Assert.Contains("tls.certificates", stderr, StringComparison.Ordinal);
        Assert.Contains("main.key' is not the private key of", stderr, StringComparison.Ordinal);
    }

    /// <summary>
    /// Starts tapster with the config and waits until HTTPS answers. Not TapsterServer: its readiness
    /// probe follows the 308 to a certificate it cannot trust.
    /// </summary>
    Task<Process> Launch(string config, int tlsPort, int httpPort, List<string> output) =>
        Launch(config, httpPort, output, async () =>
        {
            using var https = Https(main, tlsPort);
            using var r = await https.GetAsync("/health");
            return r.StatusCode == HttpStatusCode.OK;
        });

    static async Task<Process> Launch(string config, int httpPort, List<string> output, Func<Task<bool>> ready)
    {
        await TapsterServer.EnsureBuiltAsync();
        var psi = new ProcessStartInfo(TapsterServer.Binary)
        {
            WorkingDirectory = TapsterServer.TestAssets, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        foreach (var a in new[] { "serve", "--config", config, "--bind", $"127.0.0.1:{httpPort}", "--python", TapsterServer.Python, "--workers", "1", "probe:app" })
            psi.ArgumentList.Add(a);
        var process = Process.Start(psi)!;
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.Add(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.Add(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed < TimeSpan.FromSeconds(60) && !process.HasExited)
        {
            try
            {
                if (await ready()) return process;
            }
            catch (Exception e) when (e is HttpRequestException or IOException or SocketException or AuthenticationException) { }
            await Task.Delay(200);
        }
        process.Kill(entireProcessTree: true);
        lock (output) throw new TimeoutException("tapster did not answer on HTTPS:\n" + string.Join('\n', output));
    }

    [Fact]
    public async Task A_PROXY_protocol_header_is_read_before_the_TLS_handshake()
    {
        var (config, tlsPort) = WriteConfig();
        File.AppendAllText(config, $$"""

            [proxy]
            trusted = ["127.0.0.1"]
            protocol = ["127.0.0.1:{{tlsPort}}"]
            """);
        var output = new List<string>();
        using var process = await Launch(config, TapsterServer.FreePort(), output, async () => (await EnvironThroughProxyAsync(tlsPort)).Contains("REMOTE_ADDR", StringComparison.Ordinal));
        try
        {
            using var environ = JsonDocument.Parse(await EnvironThroughProxyAsync(tlsPort));
            Assert.Equal("192.0.2.44", environ.RootElement.GetProperty("REMOTE_ADDR").GetString());
            Assert.Equal("https", environ.RootElement.GetProperty("wsgi.url_scheme").GetString());
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
    }

    /// <summary>What a TCP balancer does: the PROXY line, then the client's own TLS and HTTP; returns the body.</summary>
    async Task<string> EnvironThroughProxyAsync(int port)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, port);
        var stream = tcp.GetStream();
        await stream.WriteAsync("PROXY TCP4 192.0.2.44 127.0.0.1 40000 443\r\n"u8.ToArray());
        await using var ssl = new SslStream(stream, false, (_, cert, _, _) => cert is not null && cert.GetCertHashString() == main.Thumbprint);
        await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = "main.test" });
        await ssl.WriteAsync("GET /environ HTTP/1.1\r\nHost: main.test\r\nConnection: close\r\n\r\n"u8.ToArray());
        using var reader = new StreamReader(ssl);
        var response = await reader.ReadToEndAsync();
        return response[(response.IndexOf("\r\n\r\n", StringComparison.Ordinal) + 4)..];
    }

    static async Task WaitForOutputAsync(List<string> output, string text)
    {
        var sw = Stopwatch.StartNew();
        while (true)
        {
            lock (output) if (output.Any(l => l.Contains(text, StringComparison.Ordinal))) return;
            Assert.True(sw.Elapsed < TimeSpan.FromSeconds(20), $"no '{text}' in the output within 20 s");
            await Task.Delay(100);
        }
    }
}

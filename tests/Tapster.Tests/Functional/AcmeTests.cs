using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;

namespace Tapster.Tests.Functional;

/// <summary>
/// ACME end to end: Tapster gets, stores, serves and renews certificates from a real pebble, and a
/// real TLS client that trusts only pebble's root verifies them by name.
/// </summary>
[Collection(FunctionalGroup.Name)]
public sealed class AcmeTests : IDisposable
{
    static readonly TimeSpan Issuance = TimeSpan.FromSeconds(120);

    readonly string work = Directory.CreateTempSubdirectory("tapster-acme-ft-").FullName;
    readonly int httpPort = TapsterServer.FreePort();
    readonly int tlsPort = TapsterServer.FreePort();

    public void Dispose() => Directory.Delete(work, recursive: true);

    [Fact]
    public async Task Tapster_gets_certificates_over_http01_stores_them_privately_and_serves_them_to_a_verifying_client()
    {
        await using var pebble = await Pebble.StartAsync(httpPort, tlsPort);
        await using var server = await StartTapsterAsync(pebble, ["shop.test", "www.shop.test"], "http-01");

        await WaitForIssuedAsync(server, pebble, "shop.test", "www.shop.test");

        foreach (var name in new[] { "shop.test", "www.shop.test" })
        {
            using var client = pebble.VerifyingClient(tlsPort);
            using var response = await client.GetAsync($"https://{name}:{tlsPort}/health");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        var state = StateDirectory(pebble);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(state, "account.key")));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(state, "shop.test.pem")));
        using var stored = X509Certificate2.CreateFromPem(File.ReadAllText(Path.Combine(state, "shop.test.pem")));
        Assert.Equal(["shop.test"], stored.Extensions.OfType<X509SubjectAlternativeNameExtension>().Single().EnumerateDnsNames());
    }

    [Fact]
    public async Task Tapster_answers_tls_alpn01_on_its_https_listener_and_after_a_restart_serves_the_stored_certificate()
    {
        await using var pebble = await Pebble.StartAsync(httpPort, tlsPort);
        await using (var first = await StartTapsterAsync(pebble, ["alpn.test"], "tls-alpn-01"))
        {
            await WaitForIssuedAsync(first, pebble, "alpn.test");
        }

        // The stored certificate is served again, and nothing is asked of the CA until it is due.
        await using var server = await StartTapsterAsync(pebble, ["alpn.test"], "tls-alpn-01");
        await server.WaitForEventAsync(e => Event(e) == "acme.loaded", TimeSpan.FromSeconds(10));
        var scheduled = await server.WaitForEventAsync(e => Event(e) == "acme.scheduled", TimeSpan.FromSeconds(10));
        Assert.True(scheduled.GetProperty("at").GetDateTimeOffset() > DateTimeOffset.UtcNow.AddDays(30), scheduled.ToString());

        using var client = pebble.VerifyingClient(tlsPort);
        using var response = await client.GetAsync($"https://alpn.test:{tlsPort}/health");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Empty(server.Events("acme.issued"));
    }

    [Fact]
    public async Task A_stored_certificate_in_its_last_third_is_served_at_start_and_renewed_without_a_restart()
    {
        await using var pebble = await Pebble.StartAsync(httpPort, tlsPort);
        // Twenty of its thirty days gone: due for renewal, still valid.
        var now = DateTimeOffset.UtcNow;
        using var old = SelfSigned("shop.test", now.AddDays(-20), now.AddDays(10));
        var state = StateDirectory(pebble);
        Directory.CreateDirectory(state);
        File.WriteAllText(Path.Combine(state, "shop.test.pem"), old.ExportCertificatePem() + "\n" + old.GetECDsaPrivateKey()!.ExportPkcs8PrivateKeyPem());

        await using var server = await StartTapsterAsync(pebble, ["shop.test"], "http-01");
        await server.WaitForEventAsync(e => Event(e) == "acme.loaded", TimeSpan.FromSeconds(10));
        await WaitForIssuedAsync(server, pebble, "shop.test");

        using var client = pebble.VerifyingClient(tlsPort);
        using var response = await client.GetAsync($"https://shop.test:{tlsPort}/health");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var renewed = X509Certificate2.CreateFromPem(File.ReadAllText(Path.Combine(state, "shop.test.pem")));
        Assert.NotEqual(old.Thumbprint, renewed.Thumbprint);
        Assert.False(server.HasExited);
    }

    [Fact]
    public async Task With_the_ca_unreachable_tapster_still_serves_keeps_the_stored_certificate_and_says_when_it_retries()
    {
        var now = DateTimeOffset.UtcNow;
        using var stored = SelfSigned("kept.test", now.AddDays(-20), now.AddDays(10));
        var unreachable = new Uri($"https://127.0.0.1:{TapsterServer.FreePort()}/dir");
        var state = Path.Combine(work, ".tapster", "acme", $"127.0.0.1_{unreachable.Port}");
        Directory.CreateDirectory(state);
        File.WriteAllText(Path.Combine(state, "kept.test.pem"), stored.ExportCertificatePem() + "\n" + stored.GetECDsaPrivateKey()!.ExportPkcs8PrivateKeyPem());

        await using var server = await StartTapsterAsync(unreachable, null, ["kept.test", "missing.test"], "http-01");

        var renewalFailed = await server.WaitForEventAsync(e => Event(e) == "acme.renewal_failed", TimeSpan.FromSeconds(30));
        Assert.Equal("kept.test", renewalFailed.GetProperty("domain").GetString());
        Assert.True(renewalFailed.GetProperty("retry_at").GetDateTimeOffset() > DateTimeOffset.UtcNow.AddSeconds(30));
        var failed = await server.WaitForEventAsync(e => Event(e) == "acme.failed", TimeSpan.FromSeconds(30));
        Assert.Equal("missing.test", failed.GetProperty("domain").GetString());
        Assert.Equal("error", failed.GetProperty("level").GetString());

        using var tcp = new System.Net.Sockets.TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, tlsPort);
        await using var tls = new System.Net.Security.SslStream(tcp.GetStream(), false, (_, cert, _, _) => cert?.GetCertHashString() == stored.Thumbprint);
        await tls.AuthenticateAsClientAsync("kept.test");
        Assert.Equal(stored.Thumbprint, tls.RemoteCertificate!.GetCertHashString());
        using var http = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false }) { BaseAddress = server.BaseAddress };
        using var plain = await http.GetAsync("/health");
        Assert.Equal(HttpStatusCode.PermanentRedirect, plain.StatusCode);
    }

    Task<TapsterServer> StartTapsterAsync(Pebble pebble, string[] domains, string challenge) =>
        StartTapsterAsync(pebble.DirectoryUrl, pebble.CaFile, domains, challenge);

    async Task<TapsterServer> StartTapsterAsync(Uri directory, string? caFile, string[] domains, string challenge)
    {
        var config = Path.Combine(work, "tapster.toml");
        File.WriteAllText(config, $$"""
            [tls]
            listen = ["127.0.0.1:{{tlsPort}}"]
            acme_domains = [{{string.Join(", ", domains.Select(d => $"\"{d}\""))}}]
            acme_directory = "{{directory}}"
            {{(caFile is null ? "" : $"acme_ca = \"{caFile}\"")}}
            acme_challenge = "{{challenge}}"
            acme_email = "ops@shop.test"
            """);
        // A second plain listener on the port pebble validates HTTP-01 on; TapsterServer adds its own.
        return await TapsterServer.StartAsync(TestPaths.Of("testassets", "probe.py"),
            "--config", config, "--chdir", work, "--bind", $"127.0.0.1:{httpPort}", "--workers", "1");
    }

    string StateDirectory(Pebble pebble) => Path.Combine(work, ".tapster", "acme", $"127.0.0.1_{pebble.DirectoryUrl.Port}");

    /// <summary>Waits for one acme.issued event per name, failing early with pebble's log when Tapster reports a failure.</summary>
    static async Task WaitForIssuedAsync(TapsterServer server, Pebble pebble, params string[] domains)
    {
        try
        {
            var failedOrIssued = await server.WaitForEventAsync(
                e => Event(e) is "acme.failed" or "acme.renewal_failed" || server.Events("acme.issued").Count == domains.Length, Issuance);
            Assert.True(server.Events("acme.issued").Count == domains.Length, $"ACME failed: {failedOrIssued}\n{pebble.Output}");
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"{e.Message}\n{pebble.Output}", e);
        }
    }

    static string? Event(JsonElement e) => e.TryGetProperty("event", out var name) ? name.GetString() : null;

    static X509Certificate2 SelfSigned(string name, DateTimeOffset notBefore, DateTimeOffset notAfter)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName(name);
        request.CertificateExtensions.Add(san.Build());
        return request.CreateSelfSigned(notBefore, notAfter);
    }
}

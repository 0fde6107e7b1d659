using System.Diagnostics;
using System.Net;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Tapster.Tests.Functional;

/// <summary>
/// A real ACME server for the tests: Debian's pebble, with pebble-challtestsrv as its DNS answering
/// 127.0.0.1 for every name. Pebble's own defaults stay on (it rejects 5% of nonces and sleeps before
/// validating), so the client is tested against the behaviour a real CA allows. It validates HTTP-01 on
/// <c>httpPort</c> and TLS-ALPN-01 on <c>tlsPort</c> of 127.0.0.1: the Tapster under test listens there.
/// </summary>
public sealed class Pebble : IAsyncDisposable
{
    const string PebbleBinary = "/usr/bin/pebble";
    const string ChallengeServerBinary = "/usr/bin/pebble-challtestsrv";

    readonly string dir = Directory.CreateTempSubdirectory("tapster-pebble-").FullName;
    readonly List<Process> processes = [];
    readonly List<string> output = [];
    readonly int managementPort = TapsterServer.FreePort();

    Pebble(int acmePort)
    {
        DirectoryUrl = new Uri($"https://127.0.0.1:{acmePort}/dir");
    }

    public Uri DirectoryUrl { get; }

    /// <summary>The PEM root that signed pebble's own HTTPS certificate: Tapster's <c>tls.acme_ca</c>.</summary>
    public string CaFile => Path.Combine(dir, "ca.pem");

    /// <summary>The root pebble issues under (new on every start), from its management API.</summary>
    public X509Certificate2 IssuingRoot { get; private set; } = null!;

    public string Output { get { lock (output) return string.Join('\n', output); } }

    /// <summary>Starts both servers and waits until the directory answers. Fails, not skips, without pebble: CI installs it.</summary>
    public static async Task<Pebble> StartAsync(int httpPort, int tlsPort)
    {
        Assert.True(File.Exists(PebbleBinary) && File.Exists(ChallengeServerBinary),
            "pebble is not installed (apt-get install pebble); .ci/run installs it");
        var pebble = new Pebble(TapsterServer.FreePort());
        try
        {
            await pebble.LaunchAsync(httpPort, tlsPort);
            return pebble;
        }
        catch
        {
            await pebble.DisposeAsync();
            throw;
        }
    }

    async Task LaunchAsync(int httpPort, int tlsPort)
    {
        var (certificate, key) = WriteHttpsCertificate();
        var dnsPort = TapsterServer.FreePort();
        Launch(ChallengeServerBinary, "-defaultIPv4", "127.0.0.1", "-defaultIPv6", "", "-dns01", $"127.0.0.1:{dnsPort}",
            "-management", $"127.0.0.1:{TapsterServer.FreePort()}", "-http01", "", "-https01", "", "-tlsalpn01", "");
        var config = Path.Combine(dir, "pebble-config.json");
        File.WriteAllText(config, $$"""
            {
              "pebble": {
                "listenAddress": "{{DirectoryUrl.Authority}}",
                "managementListenAddress": "127.0.0.1:{{managementPort}}",
                "certificate": "{{certificate}}",
                "privateKey": "{{key}}",
                "httpPort": {{httpPort}},
                "tlsPort": {{tlsPort}},
                "ocspResponderURL": "",
                "externalAccountBindingRequired": false
              }
            }
            """);
        Launch(PebbleBinary, "-config", config, "-dnsserver", $"127.0.0.1:{dnsPort}");

        using var client = TrustingClient();
        var sw = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                using var response = await client.GetAsync(DirectoryUrl);
                if (response.IsSuccessStatusCode) break;
            }
            catch (HttpRequestException) { }
            Assert.True(sw.Elapsed < TimeSpan.FromSeconds(30) && processes.All(p => !p.HasExited), $"pebble did not start:\n{Output}");
            await Task.Delay(100);
        }

        IssuingRoot = X509Certificate2.CreateFromPem(await client.GetStringAsync($"https://127.0.0.1:{managementPort}/roots/0"));
    }

    /// <summary>An HTTPS client that trusts only pebble's issuing root and connects every name to 127.0.0.1.</summary>
    public HttpClient VerifyingClient(int port)
    {
        var policy = new X509ChainPolicy { TrustMode = X509ChainTrustMode.CustomRootTrust, RevocationMode = X509RevocationMode.NoCheck };
        policy.CustomTrustStore.Add(IssuingRoot);
        return new HttpClient(new SocketsHttpHandler
        {
            SslOptions = new SslClientAuthenticationOptions { CertificateChainPolicy = policy },
            ConnectCallback = async (_, cancel) =>
            {
                var socket = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp) { NoDelay = true };
                await socket.ConnectAsync(IPAddress.Loopback, port, cancel);
                return new System.Net.Sockets.NetworkStream(socket, ownsSocket: true);
            },
            PooledConnectionLifetime = TimeSpan.Zero,
        })
        { Timeout = TimeSpan.FromSeconds(30) };
    }

    /// <summary>Pebble's HTTPS certificate for 127.0.0.1, from a CA of the test's own: what a private ACME server has.</summary>
    (string Certificate, string Key) WriteHttpsCertificate()
    {
        var now = DateTimeOffset.UtcNow;
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest("CN=Tapster test CA for pebble", caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        caRequest.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(caRequest.PublicKey, false));
        using var ca = caRequest.CreateSelfSigned(now.AddDays(-1), now.AddDays(30));

        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Loopback);
        san.AddDnsName("localhost");
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        using var leaf = request.Create(ca, now.AddDays(-1), now.AddDays(29), RandomNumberGenerator.GetBytes(12));

        File.WriteAllText(CaFile, ca.ExportCertificatePem());
        var certificate = Path.Combine(dir, "pebble.pem");
        var keyFile = Path.Combine(dir, "pebble.key");
        File.WriteAllText(certificate, leaf.ExportCertificatePem());
        File.WriteAllText(keyFile, key.ExportPkcs8PrivateKeyPem());
        return (certificate, keyFile);
    }

    HttpClient TrustingClient()
    {
        var policy = new X509ChainPolicy { TrustMode = X509ChainTrustMode.CustomRootTrust, RevocationMode = X509RevocationMode.NoCheck };
        policy.CustomTrustStore.Add(X509Certificate2.CreateFromPem(File.ReadAllText(CaFile)));
        return new HttpClient(new SocketsHttpHandler { SslOptions = new SslClientAuthenticationOptions { CertificateChainPolicy = policy } })
        { Timeout = TimeSpan.FromSeconds(10) };
    }

    void Launch(string binary, params string[] args)
    {
        var psi = new ProcessStartInfo(binary) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = dir };
        foreach (var a in args) psi.ArgumentList.Add(a);
        var process = Process.Start(psi)!;
        processes.Add(process);
        var name = Path.GetFileName(binary);
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.Add($"{name}: {e.Data}"); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.Add($"{name}: {e.Data}"); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var process in processes)
        {
            if (!process.HasExited) process.Kill();
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await process.WaitForExitAsync(cts.Token);
            process.Dispose();
        }
        Directory.Delete(dir, recursive: true);
    }
}

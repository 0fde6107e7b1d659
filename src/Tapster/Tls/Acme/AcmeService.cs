using Microsoft.Extensions.Logging;

namespace Tapster.Tls.Acme;

/// <summary>
/// ACME as <c>tapster serve</c> runs it: the account, the challenge responders the listeners answer
/// with, and the scheduler that gets and renews the certificates of <c>tls.acme_domains</c>.
/// </summary>
internal sealed class AcmeService : IAsyncDisposable
{
    private readonly HttpClient _http;
    private readonly AccountKey _accountKey;
    private readonly AcmeClient _client;
    private readonly RenewalScheduler _scheduler;

    private AcmeService(TlsSettings tls, AcmeStore store, HttpClient http, ServedCertificates served, ILogger logger, TimeProvider time)
    {
        _http = http;
        _accountKey = store.LoadOrCreateAccountKey();
        var client = _client = new AcmeClient(http, tls.AcmeDirectoryUrl, _accountKey);
        var order = new CertificateOrder(client, tls.AcmeChallenge, Http01, TlsAlpn01, time);
        _scheduler = new RenewalScheduler(tls.AcmeDomains, store, ObtainAsync, served, new AcmeLog(logger), time);

        async Task<ServerCertificate> ObtainAsync(string domain, CancellationToken cancel)
        {
            await client.RegisterAsync(tls.AcmeEmail, cancel).ConfigureAwait(false);
            var (chain, key) = await order.ObtainAsync(domain, cancel).ConfigureAwait(false);
            return store.Save(domain, chain, key);
        }
    }

    public Http01Responder Http01 { get; } = new();

    public TlsAlpn01Responder TlsAlpn01 { get; } = new();

    /// <summary>
    /// Reads the account key (making one on first use) and the stored certificates, which are served
    /// at once; returns null with the problem when the state directory or <c>tls.acme_ca</c> cannot be used.
    /// </summary>
    public static AcmeService? Create(TlsSettings tls, string stateDirectory, ServedCertificates served, ILogger logger, out string? error)
    {
        error = null;
        var roots = tls.AcmeCa is null ? null : AcmeTrust.LoadRoots(tls.AcmeCa, out error);
        if (error is not null)
        {
            error = $"tls.acme_ca: {error}";
            return null;
        }

        var store = AcmeStore.For(Path.Combine(stateDirectory, "acme"), tls.AcmeDirectoryUrl);
        var http = AcmeTrust.CreateClient(roots);
        try
        {
            var service = new AcmeService(tls, store, http, served, logger, TimeProvider.System);
            service._scheduler.LoadStored();
            return service;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException or ArgumentException)
        {
            http.Dispose();
            error = $"tls.acme_domains: cannot use the ACME state directory {store.Directory}: {e.Message}";
            return null;
        }
    }

    /// <summary>Starts getting and renewing certificates; the listeners must be up for the challenges.</summary>
    public void Start() => _scheduler.Start();

    public async ValueTask DisposeAsync()
    {
        await _scheduler.DisposeAsync().ConfigureAwait(false);
        _client.Dispose();
        _accountKey.Dispose();
        _http.Dispose();
    }
}

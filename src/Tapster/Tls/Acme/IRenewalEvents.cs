using System.Security.Cryptography.X509Certificates;

namespace Tapster.Tls.Acme;

/// <summary>What the <see cref="RenewalScheduler"/> does, as it does it: logged in production, watched by tests.</summary>
internal interface IRenewalEvents
{
    void Loaded(string domain, X509Certificate2 certificate);

    void LoadFailed(string domain, string error);

    void Scheduled(string domain, DateTimeOffset at);

    void Issued(string domain, X509Certificate2 certificate);

    /// <summary><paramref name="kept"/> is the certificate still served, when there is one.</summary>
    void Failed(string domain, Exception error, DateTimeOffset retryAt, X509Certificate2? kept);
}

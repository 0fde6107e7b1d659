using Tapster.Tls.Acme;

namespace Tapster.Tls;

/// <summary>[tls]: off by default, since certificates are the operator's to give.</summary>
internal sealed record TlsSettings
{
    public const string LetsEncryptProduction = "https://acme-v02.api.letsencrypt.org/directory";

    /// <summary>Let's Encrypt's staging CA: high rate limits, untrusted certificates; for trying a setup out.</summary>
    public const string LetsEncryptStaging = "https://acme-staging-v02.api.letsencrypt.org/directory";

    /// <summary>HTTPS addresses; none = no TLS and the plain listeners answer as they always did.</summary>
    public IReadOnlyList<string> Listen { get; init; } = [];

    /// <summary>The first is the default, served when SNI is absent or names no certificate.</summary>
    public IReadOnlyList<CertificateFiles> Certificates { get; init; } = [];

    /// <summary>Names to get certificates for over ACME; none = ACME off.</summary>
    public IReadOnlyList<string> AcmeDomains { get; init; } = [];

    /// <summary>The account's contact, for the CA's expiry and policy mail; none is allowed by RFC 8555.</summary>
    public string? AcmeEmail { get; init; }

    /// <summary>An explicit directory URL; null = Let's Encrypt (production, or staging with <see cref="AcmeStaging"/>).</summary>
    public string? AcmeDirectory { get; init; }

    public bool AcmeStaging { get; init; }

    /// <summary>A PEM file of extra roots trusted for the connection to the ACME server (a private or test CA).</summary>
    public string? AcmeCa { get; init; }

    /// <summary>HTTP-01 by default: it works wherever port 80 reaches the plain listener, as certbot's default.</summary>
    public string AcmeChallenge { get; init; } = ChallengeTypes.Http01;

    public bool Enabled => Listen.Count > 0;

    public bool AcmeEnabled => AcmeDomains.Count > 0;

    public Uri AcmeDirectoryUrl => new(AcmeDirectory ?? (AcmeStaging ? LetsEncryptStaging : LetsEncryptProduction));
}

namespace Tapster.Tls;

/// <summary>[tls]: off by default, since certificates are the operator's to give.</summary>
internal sealed record TlsSettings
{
    /// <summary>HTTPS addresses; none = no TLS and the plain listeners answer as they always did.</summary>
    public IReadOnlyList<string> Listen { get; init; } = [];

    /// <summary>The first is the default, served when SNI is absent or names no certificate.</summary>
    public IReadOnlyList<CertificateFiles> Certificates { get; init; } = [];

    public bool Enabled => Listen.Count > 0;
}

namespace Tapster.Tls;

/// <summary>One <c>tls.certificates</c> entry: a PEM certificate (its chain may follow it) and its PEM private key.</summary>
internal sealed record CertificateFiles(string Cert, string Key);

using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace Tapster.Tls;

/// <summary>A loaded certificate with its chain, and the host names (SAN DNS entries) it answers for.</summary>
internal sealed record ServerCertificate(CertificateFiles Files, X509Certificate2 Certificate, SslStreamCertificateContext Context, IReadOnlyList<string> Names)
{
    /// <summary>Why browsers would refuse it at <paramref name="now"/> (expired, or not valid yet); null when they would not.</summary>
    public string? ValidityProblem(DateTime now) =>
        Certificate.NotAfter < now ? $"'{Files.Cert}' expired on {Certificate.NotAfter.ToUniversalTime():u}"
        : Certificate.NotBefore > now ? $"'{Files.Cert}' is not valid before {Certificate.NotBefore.ToUniversalTime():u}"
        : null;
}

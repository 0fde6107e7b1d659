using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace Tapster.Tls;

/// <summary>A loaded certificate with its chain, and the host names (SAN DNS entries) it answers for.</summary>
internal sealed record ServerCertificate(CertificateFiles Files, X509Certificate2 Certificate, SslStreamCertificateContext Context, IReadOnlyList<string> Names);

using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Tapster.Tests.Unit.Tls;

/// <summary>Self-signed certificates for the TLS tests, written as PEM files.</summary>
internal static class TestCertificates
{
    public static X509Certificate2 Create(string[] dnsNames, DateTimeOffset? notAfter = null)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={dnsNames[0]}", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        foreach (var name in dnsNames) san.AddDnsName(name);
        request.CertificateExtensions.Add(san.Build());
        var until = notAfter ?? DateTimeOffset.UtcNow.AddDays(30);
        return request.CreateSelfSigned(until.AddDays(-60), until);
    }

    /// <summary>Writes the certificate and its key to DIR/NAME.pem and DIR/NAME.key; returns both paths.</summary>
    public static (string Cert, string Key) Write(string directory, string name, X509Certificate2 certificate)
    {
        var cert = Path.Combine(directory, name + ".pem");
        var key = Path.Combine(directory, name + ".key");
        // Through a temporary file and a rename, as a renewal tool does, so a reader never sees half a file.
        WriteAtomically(cert, certificate.ExportCertificatePem());
        WriteAtomically(key, certificate.GetECDsaPrivateKey()!.ExportPkcs8PrivateKeyPem());
        return (cert, key);
    }

    static void WriteAtomically(string path, string text)
    {
        var temporary = path + ".tmp";
        File.WriteAllText(temporary, text);
        File.Move(temporary, path, overwrite: true);
    }
}

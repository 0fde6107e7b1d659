using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Tapster.Configuration;

namespace Tapster.Tls;

/// <summary>Reads a PEM certificate and key pair, saying which file is wrong and how when it cannot.</summary>
internal static class CertificateLoader
{
    /// <summary>Loads every pair, in order; returns the first problem instead when one cannot be used.</summary>
    public static CertificateSet? LoadAll(IReadOnlyList<CertificateFiles> files, out string? error)
    {
        var loaded = new List<ServerCertificate>();
        foreach (var pair in files)
        {
            if (Load(pair, out error) is not { } certificate)
            {
                return null;
            }

            loaded.Add(certificate);
        }

        error = loaded.Count == 0 ? "no certificates given" : null;
        return loaded.Count == 0 ? null : new CertificateSet(loaded);
    }

    public static ServerCertificate? Load(CertificateFiles files, out string? error)
    {
        if (Read(files.Cert, "certificate", out error) is not { } certText || Read(files.Key, "key", out error) is not { } keyText)
        {
            return null;
        }

        var chain = new X509Certificate2Collection();
        try
        {
            chain.ImportFromPem(certText);
        }
        catch (CryptographicException e)
        {
            error = $"'{files.Cert}' is not a readable PEM certificate: {e.Message}";
            return null;
        }

        if (chain.Count == 0)
        {
            error = $"'{files.Cert}' holds no PEM certificate (-----BEGIN CERTIFICATE-----)";
            return null;
        }

        X509Certificate2 leaf;
        try
        {
            // The first certificate of the file is the server's; those after it are its chain.
            leaf = X509Certificate2.CreateFromPem(chain[0].ExportCertificatePem(), keyText);
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException)
        {
            error = HoldsPrivateKey(keyText)
                ? $"'{files.Key}' is not the private key of '{files.Cert}' (the key does not match the certificate)"
                : $"'{files.Key}' holds no readable PEM private key (unencrypted PKCS#8, RSA or EC)";
            return null;
        }

        var intermediates = new X509Certificate2Collection();
        for (var i = 1; i < chain.Count; i++)
        {
            intermediates.Add(chain[i]);
        }

        error = null;
        var context = SslStreamCertificateContext.Create(leaf, intermediates, offline: true);
        return new ServerCertificate(files, leaf, context, HostNames(leaf));
    }

    /// <summary>The names a client may ask for: the SAN DNS entries, else the subject's CN as old certificates have it.</summary>
    public static IReadOnlyList<string> HostNames(X509Certificate2 certificate)
    {
        var san = certificate.Extensions.OfType<X509SubjectAlternativeNameExtension>().FirstOrDefault();
        if (san is not null)
        {
            return [.. san.EnumerateDnsNames()];
        }

        var commonName = certificate.GetNameInfo(X509NameType.DnsName, forIssuer: false);
        return string.IsNullOrEmpty(commonName) ? [] : [commonName];
    }

    private static string? Read(string path, string what, out string? error)
    {
        error = null;
        if (!File.Exists(path))
        {
            error = $"{what} file '{path}' does not exist";
            return null;
        }

        try
        {
            // A certificate chain is a few KiB; the cap keeps a wrong path like /dev/zero from eating memory.
            return BoundedFile.ReadAllText(path, 1024 * 1024);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            error = $"cannot read {what} file '{path}': {e.Message}";
            return null;
        }
    }

    private static bool HoldsPrivateKey(string keyText)
    {
        using var rsa = RSA.Create();
        using var ecdsa = ECDsa.Create();
        return TryImport(rsa, keyText) || TryImport(ecdsa, keyText);
    }

    private static bool TryImport(AsymmetricAlgorithm algorithm, string keyText)
    {
        try
        {
            algorithm.ImportFromPem(keyText);
            return true;
        }
        catch (ArgumentException)
        {
            return false;
        }
        catch (CryptographicException)
        {
            return false;
        }
    }
}

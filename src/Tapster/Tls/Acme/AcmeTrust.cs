using System.Net.Security;
using System.Reflection;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Tapster.Tls.Acme;

/// <summary>
/// The HTTPS client for the ACME server: the system's roots, plus the extra ones of
/// <c>tls.acme_ca</c> for a private CA or a test server such as pebble.
/// </summary>
internal static class AcmeTrust
{
    public static X509Certificate2Collection? LoadRoots(string path, out string? error)
    {
        error = null;
        var roots = new X509Certificate2Collection();
        try
        {
            roots.ImportFromPemFile(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException)
        {
            error = $"cannot read '{path}' as PEM certificates: {e.Message}";
            return null;
        }

        if (roots.Count == 0)
        {
            error = $"'{path}' holds no PEM certificate (-----BEGIN CERTIFICATE-----)";
            return null;
        }

        return roots;
    }

    public static HttpClient CreateClient(X509Certificate2Collection? extraRoots)
    {
        var handler = new SocketsHttpHandler
        {
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            ConnectTimeout = TimeSpan.FromSeconds(30),
        };
        if (extraRoots is not null)
        {
            handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, chain, errors) => Trusted(extraRoots, certificate, chain, errors);
        }

        var client = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(60) };
        // RFC 8555 6.1: clients MUST send a User-Agent.
        var version = typeof(AcmeTrust).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0";
        client.DefaultRequestHeaders.UserAgent.ParseAdd($"tapster/{version.Split('+')[0]}");
        return client;
    }

    /// <summary>Trusted by the system, or chains up to one of the extra roots with the host name matching.</summary>
    private static bool Trusted(X509Certificate2Collection extraRoots, X509Certificate? certificate, X509Chain? presented, SslPolicyErrors errors)
    {
        if (errors == SslPolicyErrors.None)
        {
            return true;
        }

        if (errors != SslPolicyErrors.RemoteCertificateChainErrors || certificate is null)
        {
            return false;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(extraRoots);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        if (presented is not null)
        {
            foreach (var element in presented.ChainElements)
            {
                chain.ChainPolicy.ExtraStore.Add(element.Certificate);
            }
        }

        using var leaf = new X509Certificate2(certificate);
        return chain.Build(leaf);
    }
}

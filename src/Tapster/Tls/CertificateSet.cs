namespace Tapster.Tls;

/// <summary>
/// The certificates in use, never changed once built: a reload builds a new set and swaps it whole, so
/// a handshake never sees half of one set and half of another.
/// </summary>
internal sealed class CertificateSet
{
    public CertificateSet(IReadOnlyList<ServerCertificate> certificates)
    {
        if (certificates.Count == 0)
        {
            throw new ArgumentException("a certificate set needs at least one certificate", nameof(certificates));
        }

        Certificates = certificates;
    }

    public IReadOnlyList<ServerCertificate> Certificates { get; }

    /// <summary>
    /// The certificate for an SNI name: an exact SAN match first, then a wildcard one, in the order of
    /// the config; the first certificate when the client sent no name or one nobody holds, as nginx's
    /// default server does.
    /// </summary>
    public ServerCertificate Select(string? serverName)
    {
        if (string.IsNullOrEmpty(serverName))
        {
            return Certificates[0];
        }

        var name = serverName.TrimEnd('.');
        return Certificates.FirstOrDefault(c => c.Names.Any(n => n.Equals(name, StringComparison.OrdinalIgnoreCase)))
            ?? Certificates.FirstOrDefault(c => c.Names.Any(n => WildcardMatches(n, name)))
            ?? Certificates[0];
    }

    /// <summary>RFC 6125 6.4.3: <c>*.example.com</c> covers exactly one label, so not example.com nor a.b.example.com.</summary>
    public static bool WildcardMatches(string pattern, string name)
    {
        if (!pattern.StartsWith("*.", StringComparison.Ordinal))
        {
            return false;
        }

        var dot = name.IndexOf('.', StringComparison.Ordinal);
        return dot > 0 && name[(dot + 1)..].Equals(pattern[2..], StringComparison.OrdinalIgnoreCase);
    }
}

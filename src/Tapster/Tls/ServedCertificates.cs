using System.Collections.Immutable;

namespace Tapster.Tls;

/// <summary>
/// What the TLS listeners serve: the <c>tls.certificates</c> files (reloaded by their watcher) and
/// the ACME certificates, one per host name, as a single SNI set. The files come first, so the
/// configured default stays the default. Each change makes a new <see cref="CertificateSet"/>,
/// built once on the next handshake and then shared.
/// </summary>
internal sealed class ServedCertificates(CertificateWatcher? files)
{
    private ImmutableList<(string Domain, ServerCertificate Certificate)> _acme = [];
    private Combined? _combined;

    /// <summary>Serves <paramref name="certificate"/> for <paramref name="domain"/> from the next handshake on, in place of the one before.</summary>
    public void Publish(string domain, ServerCertificate certificate) => ImmutableInterlocked.Update(ref _acme, list =>
    {
        var index = list.FindIndex(entry => entry.Domain == domain);
        return index < 0 ? list.Add((domain, certificate)) : list.SetItem(index, (domain, certificate));
    });

    /// <summary>The certificate served for <paramref name="domain"/> by ACME, if any.</summary>
    public ServerCertificate? Acme(string domain) => Volatile.Read(ref _acme).Find(entry => entry.Domain == domain).Certificate;

    /// <summary>The certificate for an SNI name (see <see cref="CertificateSet.Select"/>); null while there is none at all.</summary>
    public ServerCertificate? Select(string? serverName)
    {
        var fileSet = files?.Current;
        var acme = Volatile.Read(ref _acme);
        var combined = Volatile.Read(ref _combined);
        if (combined is null || combined.Files != fileSet || combined.Acme != acme)
        {
            List<ServerCertificate> all = [.. fileSet?.Certificates ?? [], .. acme.Select(entry => entry.Certificate)];
            combined = new Combined(fileSet, acme, all.Count == 0 ? null : new CertificateSet(all));
            Volatile.Write(ref _combined, combined);
        }

        return combined.Set?.Select(serverName);
    }

    private sealed record Combined(CertificateSet? Files, ImmutableList<(string Domain, ServerCertificate Certificate)> Acme, CertificateSet? Set);
}

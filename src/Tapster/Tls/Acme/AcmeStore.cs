using System.Text;
using Tapster.Secrets;

namespace Tapster.Tls.Acme;

/// <summary>
/// What ACME leaves in the state directory, one folder per ACME server so staging and production
/// never mix: <c>.tapster/acme/HOST[_PORT]/account.key</c> and one <c>NAME.pem</c> per host name,
/// holding its chain and then its key. One file, not two, so a crash mid-write cannot leave a key
/// beside another key's certificate; written atomically, mode 0600.
/// </summary>
internal sealed class AcmeStore(string directory)
{
    public string Directory { get; } = directory;

    /// <summary>
    /// Makes the folder (0700, as its parents) and a .gitignore over the folders of every CA: these keys
    /// are plain PEM, unlike the encrypted secrets file beside them, and a `git add -A` must not take them.
    /// </summary>
    private void Prepare()
    {
        AtomicFile.EnsurePrivateDirectory(Directory);
        var ignore = Path.Combine(Path.GetDirectoryName(Directory)!, ".gitignore");
        try
        {
            if (!File.Exists(ignore))
            {
                File.WriteAllText(ignore, "# ACME account and certificate keys (plain PEM): never commit them.\n*\n");
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A convenience only: the keys themselves are 0600 in a 0700 directory.
        }
    }

    /// <summary>The folder for <paramref name="directoryUrl"/> under <paramref name="acmeRoot"/>.</summary>
    public static AcmeStore For(string acmeRoot, Uri directoryUrl) =>
        new(Path.Combine(acmeRoot, directoryUrl.IsDefaultPort ? directoryUrl.Host : $"{directoryUrl.Host}_{directoryUrl.Port}"));

    public string CertificatePath(string domain) => Path.Combine(Directory, $"{domain.ToLowerInvariant()}.pem");

    /// <summary>The account key, made and saved on first use: the CA knows the account by it.</summary>
    public AccountKey LoadOrCreateAccountKey()
    {
        var path = Path.Combine(Directory, "account.key");
        if (File.Exists(path))
        {
            return AccountKey.FromPem(File.ReadAllText(path));
        }

        var key = AccountKey.Create();
        Prepare();
        AtomicFile.CreateNew(path, Encoding.ASCII.GetBytes(key.ExportPem()));
        return key;
    }

    /// <summary>The stored certificate for <paramref name="domain"/>; null when there is none or it does not load (the error says why).</summary>
    public ServerCertificate? Load(string domain, out string? error)
    {
        var path = CertificatePath(domain);
        if (!File.Exists(path))
        {
            error = null;
            return null;
        }

        return CertificateLoader.Load(new CertificateFiles(path, path), out error);
    }

    public ServerCertificate Save(string domain, string chainPem, string keyPem)
    {
        var path = CertificatePath(domain);
        Prepare();
        AtomicFile.Replace(path, Encoding.ASCII.GetBytes($"{chainPem.TrimEnd()}\n{keyPem.TrimEnd()}\n"));
        return CertificateLoader.Load(new CertificateFiles(path, path), out var error)
            ?? throw new AcmeException($"the certificate issued for {domain} does not load: {error}");
    }
}

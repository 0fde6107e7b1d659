using Tapster.Secrets;
using Tapster.Tls.Acme;

namespace Tapster.Tests.Unit.Tls.Acme;

public sealed class AcmeStoreTests : IDisposable
{
    private readonly DirectoryInfo _app = Directory.CreateTempSubdirectory("acme-store-");

    [Fact]
    public void The_first_key_makes_every_new_directory_private_and_keeps_the_keys_out_of_git()
    {
        var acmeRoot = Path.Combine(_app.FullName, ".tapster", "acme");
        var store = AcmeStore.For(acmeRoot, new Uri("https://ca.example:14000/dir"));

        store.LoadOrCreateAccountKey();

        foreach (var directory in new[] { Path.Combine(_app.FullName, ".tapster"), acmeRoot, store.Directory })
        {
            Assert.Equal(AtomicFile.PrivateDirectory, File.GetUnixFileMode(directory));
        }

        Assert.Equal(AtomicFile.PrivateFile, File.GetUnixFileMode(Path.Combine(store.Directory, "account.key")));
        Assert.Contains("\n*\n", File.ReadAllText(Path.Combine(acmeRoot, ".gitignore")), StringComparison.Ordinal);
    }

    [Fact]
    public void An_existing_directory_of_the_app_keeps_its_mode()
    {
        var tapster = Directory.CreateDirectory(Path.Combine(_app.FullName, ".tapster")).FullName;
        File.SetUnixFileMode(tapster, AtomicFile.PrivateDirectory | UnixFileMode.GroupRead | UnixFileMode.GroupExecute);

        AcmeStore.For(Path.Combine(tapster, "acme"), new Uri("https://ca.example/dir")).LoadOrCreateAccountKey();

        Assert.Equal(AtomicFile.PrivateDirectory | UnixFileMode.GroupRead | UnixFileMode.GroupExecute, File.GetUnixFileMode(tapster));
    }

    public void Dispose() => _app.Delete(recursive: true);
}

using System.Text;
using Tapster.Secrets;

namespace Tapster.Tests.Unit.Secrets;

public sealed class SecretStoreTests : IDisposable
{
    private static readonly DateTimeOffset Changed = new(2025, 3, 1, 12, 0, 0, TimeSpan.Zero);

    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("secrets-");

    public void Dispose() => _dir.Delete(recursive: true);

    private string Dir(params string[] parts) => Path.Combine([_dir.FullName, .. parts]);

    // Never the real environment: tests run in parallel and the developer's shell may hold a real key.
    private SecretsLocation Location(string? environmentKey = null, string? keyFile = null, string? credentials = null) =>
        SecretsLocation.Resolve(_dir.FullName, keyFileFlag: keyFile, environment: name => name switch
        {
            SecretsLocation.MasterKeyVariable => environmentKey,
            SecretsLocation.CredentialsDirectoryVariable => credentials,
            _ => null,
        });

    private MasterKey CreateProject(params (string Name, string Value)[] secrets)
    {
        var location = Location();
        var key = SecretStore.FindOrCreateKey(location, out _);
        SecretStore.Write(location, key, secrets.Select(s => new SecretEntry(s.Name, s.Value, Changed)));
        return key;
    }

    [Fact]
    public void Resolve_Defaults_AreInTheTapsterDirectoryOfTheBase()
    {
        var location = Location();

        Assert.Equal(Dir(".tapster", "secrets.enc"), location.SecretsFile);
        Assert.Equal(Dir(".tapster", "master.key"), location.KeyFile);
        Assert.False(location.KeyFileExplicit);
    }

    [Fact]
    public void Load_NoSecretsFile_IsEmptyAndNeedsNoKey() => Assert.Empty(SecretStore.Load(Location()));

    [Fact]
    public void Load_AfterWrite_ReturnsTheValuesByName()
    {
        using var key = CreateProject(("DATABASE_URL", "postgres://db"), ("API_TOKEN", "tok"));

        var secrets = SecretStore.Load(Location());

        Assert.Equal("postgres://db", secrets["DATABASE_URL"]);
        Assert.Equal("tok", secrets["API_TOKEN"]);
    }

    [Fact]
    public void Load_SecretsFileButNoKey_IsAConfigurationErrorListingTheSources()
    {
        using (CreateProject(("A", "1")))
        {
        }

        File.Delete(Dir(".tapster", "master.key"));

        var e = Assert.Throws<SecretsException>(() => SecretStore.Load(Location()));

        Assert.Equal(2, e.ExitCode);
        Assert.Contains("no master key found for secrets file " + Dir(".tapster", "secrets.enc"), e.Message, StringComparison.Ordinal);
        Assert.Contains("TAPSTER_MASTER_KEY", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FindOrCreateKey_FreshProject_CreatesA0600KeyFileInA0700Directory()
    {
        using var key = SecretStore.FindOrCreateKey(Location(), out var created);

        Assert.True(created);
        Assert.Equal(AtomicFile.PrivateFile, File.GetUnixFileMode(Dir(".tapster", "master.key")));
        Assert.Equal(AtomicFile.PrivateDirectory, File.GetUnixFileMode(Dir(".tapster")));
        Assert.Equal(MasterKeySource.KeyFile, key.Source);
        Assert.Contains("master.key", File.ReadAllText(Dir(".tapster", ".gitignore")), StringComparison.Ordinal);

        using var again = SecretStore.FindOrCreateKey(Location(), out var createdAgain);
        Assert.False(createdAgain);
        Assert.Equal(key.KeyId, again.KeyId);
    }

    [Fact]
    public void FindOrCreateKey_SecretsFileWithoutKey_RefusesToMakeANewKey()
    {
        using (CreateProject(("A", "1")))
        {
        }

        File.Delete(Dir(".tapster", "master.key"));

        Assert.Throws<SecretsException>(() => SecretStore.FindOrCreateKey(Location(), out _));
        Assert.False(File.Exists(Dir(".tapster", "master.key")));
    }

    [Fact]
    public void Find_EnvironmentKey_BeatsTheKeyFile()
    {
        using var fileKey = CreateProject();
        using var other = MasterKey.Generate();

        using var found = MasterKeyLocator.Find(Location(environmentKey: Convert.ToHexString(other.Bytes)))!;

        Assert.Equal(other.KeyId, found.KeyId);
        Assert.Equal(MasterKeySource.Environment, found.Source);
    }

    [Fact]
    public void Find_SystemdCredential_IsUsedWhenNoKeyFileExists()
    {
        using var key = MasterKey.Generate();
        var credentials = Directory.CreateDirectory(Dir("credentials")).FullName;
        File.WriteAllBytes(Path.Combine(credentials, "tapster-master-key"), key.Bytes.ToArray());

        using var found = MasterKeyLocator.Find(Location(credentials: credentials))!;

        Assert.Equal((key.KeyId, MasterKeySource.Credential), (found.KeyId, found.Source));
    }

    [Fact]
    public void Find_ExplicitKeyFileMissing_IsAnErrorNotAFallThrough()
    {
        var e = Assert.Throws<SecretsException>(() => MasterKeyLocator.Find(Location(keyFile: "elsewhere/key")));

        Assert.Contains(Dir("elsewhere", "key") + " does not exist", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(UnixFileMode.GroupRead)]
    [InlineData(UnixFileMode.OtherRead)]
    [InlineData(UnixFileMode.GroupWrite)]
    public void Find_KeyFileAccessibleByOthers_IsRefusedWithTheFixInTheMessage(UnixFileMode extra)
    {
        using (CreateProject())
        {
        }

        var keyFile = Dir(".tapster", "master.key");
        File.SetUnixFileMode(keyFile, AtomicFile.PrivateFile | extra);

        var e = Assert.Throws<SecretsException>(() => MasterKeyLocator.Find(Location()));

        Assert.Equal(2, e.ExitCode);
        Assert.Contains($"key file {keyFile} is accessible by group or others", e.Message, StringComparison.Ordinal);
        Assert.EndsWith($"chmod 600 {keyFile}", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Find_KeyFileThatCannotBeRead_NamesTheFile()
    {
        // Tests may run as root, which reads any mode: a directory is a key file nobody can read.
        Directory.CreateDirectory(Dir(".tapster", "master.key"));

        var e = Assert.Throws<SecretsException>(() => MasterKeyLocator.Find(Location()));

        Assert.Contains(Dir(".tapster", "master.key"), e.Message, StringComparison.Ordinal);
        Assert.Equal(2, e.ExitCode);
    }

    [Fact]
    public void Find_KeyOfTheWrongLength_SaysHowLongItIs()
    {
        Directory.CreateDirectory(Dir(".tapster"));
        File.WriteAllText(Dir(".tapster", "master.key"), Convert.ToBase64String(new byte[16]) + "\n");
        File.SetUnixFileMode(Dir(".tapster", "master.key"), AtomicFile.PrivateFile);

        var e = Assert.Throws<SecretsException>(() => MasterKeyLocator.Find(Location()));

        Assert.Contains($"master key from key file {Dir(".tapster", "master.key")} decodes to 16 bytes, not 32", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_OtherProjectsKey_IsAWrongKeyErrorAndTheFileIsUntouched()
    {
        using (CreateProject(("A", "1")))
        {
        }

        var before = File.ReadAllBytes(Dir(".tapster", "secrets.enc"));
        using var other = MasterKey.Generate();

        var e = Assert.Throws<SecretsException>(() => SecretStore.Load(Location(environmentKey: Convert.ToBase64String(other.Bytes))));

        Assert.Contains("was written with a different master key (key id", e.Message, StringComparison.Ordinal);
        Assert.Equal(before, File.ReadAllBytes(Dir(".tapster", "secrets.enc")));
    }

    [Fact]
    public void Read_GroupReadableSecretsFile_WarnsButReads()
    {
        using var key = CreateProject(("A", "1"));
        File.SetUnixFileMode(Dir(".tapster", "secrets.enc"), AtomicFile.PrivateFile | UnixFileMode.GroupRead);
        var warnings = new List<string>();

        var entries = SecretStore.Read(Location(), key, warnings.Add);

        Assert.Single(entries);
        Assert.Contains("mode 0640", Assert.Single(warnings), StringComparison.Ordinal);
    }

    [Fact]
    public void Write_SetsMode0600()
    {
        using var key = CreateProject(("A", "1"));

        Assert.Equal(AtomicFile.PrivateFile, File.GetUnixFileMode(Dir(".tapster", "secrets.enc")));
    }

    [Fact]
    public void Write_FailingMidway_KeepsTheOldFileAndLeavesNoTemporaryFile()
    {
        using var key = CreateProject(("A", "old"));
        var before = File.ReadAllBytes(Dir(".tapster", "secrets.enc"));

        var e = Assert.Throws<SecretsException>(() => SecretStore.Write(
            Location(), key, [new SecretEntry("A", "new", Changed), new SecretEntry("B", new string('x', 4000), Changed)],
            path => new FailingStream(File.Create(path), failAfter: 100)));

        Assert.Equal(SecretsErrorKind.Io, e.Kind);
        Assert.Contains("the old file is unchanged", e.Message, StringComparison.Ordinal);
        Assert.Equal(before, File.ReadAllBytes(Dir(".tapster", "secrets.enc")));
        Assert.Equal("old", SecretStore.Load(Location())["A"]);
        Assert.Equal(["master.key", "secrets.enc"], Directory.GetFiles(Dir(".tapster")).Select(Path.GetFileName).Where(n => n != ".gitignore").Order());
    }

    [Fact]
    public void RotateKey_KeyFile_ReplacesItAndReencryptsEverything()
    {
        using var oldKey = CreateProject(("A", "1"), ("B", "2"));
        var oldCopy = Dir("old.key");
        File.Copy(Dir(".tapster", "master.key"), oldCopy);

        var rotation = SecretStore.RotateKey(Location());

        Assert.True(rotation.Installed);
        Assert.Equal((2, oldKey.KeyId, Dir(".tapster", "master.key")), (rotation.Count, rotation.OldKeyId, rotation.NewKeyPath));
        Assert.NotEqual(oldKey.KeyId, rotation.NewKeyId);
        Assert.False(File.Exists(Dir(".tapster", "master.key.new")));
        Assert.Equal(AtomicFile.PrivateFile, File.GetUnixFileMode(Dir(".tapster", "master.key")));
        Assert.Equal(new Dictionary<string, string> { ["A"] = "1", ["B"] = "2" }, SecretStore.Load(Location()));
        var e = Assert.Throws<SecretsException>(() => SecretStore.Load(Location(keyFile: oldCopy)));
        Assert.Equal(SecretsErrorKind.WrongKey, e.Kind);
    }

    [Theory]
    [InlineData(".tapster", "secrets.enc")]
    [InlineData(".tapster", "master.key")]
    [InlineData("notes.txt")]
    public void RotateKey_ToAFileThatExists_IsRefusedAndChangesNothing(params string[] target)
    {
        using var key = CreateProject(("A", "1"));
        File.WriteAllText(Dir("notes.txt"), "my notes");
        var before = Directory.GetFiles(_dir.FullName, "*", SearchOption.AllDirectories).ToDictionary(f => f, File.ReadAllBytes);

        var e = Assert.Throws<SecretsException>(() => SecretStore.RotateKey(Location(), Dir(target)));

        Assert.Equal(SecretsErrorKind.Configuration, e.Kind);
        Assert.Contains("already exists", e.Message, StringComparison.Ordinal);
        Assert.All(before, f => Assert.Equal(f.Value, File.ReadAllBytes(f.Key)));
        Assert.Equal("1", SecretStore.Load(Location())["A"]);
    }

    [Fact]
    public void Resolve_SecretsFileAndKeyFileAtOnePath_IsRefused()
    {
        var e = Assert.Throws<SecretsException>(() => SecretsLocation.Resolve(_dir.FullName, fileFlag: ".tapster/master.key", environment: _ => null));

        Assert.Contains("writing either would destroy the other", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void RotateKey_EnvironmentKey_LeavesTheNewKeyBesideTheKeyFileForTheOperator()
    {
        using var key = MasterKey.Generate();
        var fromEnvironment = Location(environmentKey: Convert.ToBase64String(key.Bytes));
        SecretStore.Write(fromEnvironment, key, [new SecretEntry("A", "1", Changed)]);

        var rotation = SecretStore.RotateKey(fromEnvironment);

        Assert.False(rotation.Installed);
        Assert.Equal(Dir(".tapster", "master.key.new"), rotation.NewKeyPath);
        Assert.Equal(AtomicFile.PrivateFile, File.GetUnixFileMode(rotation.NewKeyPath));
        var stale = Assert.Throws<SecretsException>(() => SecretStore.Load(fromEnvironment));
        Assert.Contains("the key in " + rotation.NewKeyPath + " matches it", stale.Message, StringComparison.Ordinal);
        var installed = Location(environmentKey: File.ReadAllText(rotation.NewKeyPath));
        Assert.Equal("1", SecretStore.Load(installed)["A"]);
    }

    [Fact]
    public void RotateKey_NoSecretsFile_IsNotFound()
    {
        var e = Assert.Throws<SecretsException>(() => SecretStore.RotateKey(Location()));

        Assert.Equal(SecretsErrorKind.NotFound, e.Kind);
        Assert.False(Directory.Exists(Dir(".tapster")));
    }

    [Fact]
    public void ApplyTo_AddsTheSecretsAndRemovesTheMasterKey()
    {
        var environment = new Dictionary<string, string?>
        {
            ["PATH"] = "/usr/bin",
            ["TAPSTER_MASTER_KEY"] = "k",
            ["TAPSTER_MASTER_KEY_FILE"] = "/k",
        };

        SecretStore.ApplyTo(environment, new Dictionary<string, string> { ["DATABASE_URL"] = "postgres://db" });

        Assert.Equal(new Dictionary<string, string?> { ["PATH"] = "/usr/bin", ["DATABASE_URL"] = "postgres://db" }, environment);
    }

    private sealed class FailingStream(Stream inner, int failAfter) : Stream
    {
        private int _written;

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => inner.Length;

        public override long Position { get => inner.Position; set => throw new NotSupportedException(); }

        public override void Flush() => inner.Flush();

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            var room = Math.Max(0, failAfter - _written);
            inner.Write(buffer[..Math.Min(room, buffer.Length)]);
            _written += buffer.Length;
            if (_written > failAfter)
            {
                throw new IOException("No space left on device");
            }
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}

using System.Text;
using Tapster.Configuration;

namespace Tapster.Secrets;

/// <summary>
/// The encrypted secrets of one app: reading and writing its secrets file, finding or creating its master
/// key, rotating that key, and handing the decrypted values to the workers' environment (and nowhere else).
/// </summary>
internal static class SecretStore
{
    /// <summary>A secrets file is a few KiB; refusing huge ones keeps a wrong --file from being read into memory.</summary>
    private const int MaxFileSize = 16 * 1024 * 1024;

    private const UnixFileMode GroupOrOthersRead = UnixFileMode.GroupRead | UnixFileMode.OtherRead;

    /// <summary>
    /// The decrypted secrets by name, for the workers' environment; empty when there is no secrets file (then no
    /// key is needed). Throws <see cref="SecretsException"/> for a missing or wrong key and for a damaged file,
    /// with a one-line message naming the file. Once the key is read, TAPSTER_MASTER_KEY is removed from this
    /// process's environment so that no child process (worker, zygote, interpreter probe) can inherit it.
    /// </summary>
    public static IReadOnlyDictionary<string, string> Load(SecretsLocation location, Action<string>? warn = null)
    {
        if (!Exists(location))
        {
            return new Dictionary<string, string>(StringComparer.Ordinal);
        }

        using var key = RequireKey(location);
        Environment.SetEnvironmentVariable(SecretsLocation.MasterKeyVariable, null);
        return Read(location, key, warn).ToDictionary(e => e.Name, e => e.Value, StringComparer.Ordinal);
    }

    /// <summary>
    /// Puts <paramref name="secrets"/> into a child's environment (<see cref="System.Diagnostics.ProcessStartInfo.Environment"/>)
    /// and takes the master key out of it. Call it before setting Tapster's own TAPSTER_* variables; secret
    /// names cannot start with TAPSTER_, so neither can overwrite the other.
    /// </summary>
    public static void ApplyTo(IDictionary<string, string?> environment, IReadOnlyDictionary<string, string> secrets)
    {
        environment.Remove(SecretsLocation.MasterKeyVariable);
        environment.Remove(SecretsLocation.KeyFileVariable);
        foreach (var (name, value) in secrets)
        {
            environment[name] = value;
        }
    }

    /// <summary>
    /// The environment a worker gets: <paramref name="appEnvironment"/> with the decrypted secrets (from
    /// <see cref="Load"/>) on top and the master key's variables taken out.
    /// </summary>
    public static IReadOnlyDictionary<string, string> WorkerEnvironment(
        IReadOnlyDictionary<string, string> appEnvironment, IReadOnlyDictionary<string, string> secrets)
    {
        var environment = new Dictionary<string, string?>(appEnvironment.Select(p => KeyValuePair.Create(p.Key, (string?)p.Value)), StringComparer.Ordinal);
        ApplyTo(environment, secrets);
        return environment.Where(p => p.Value is not null).ToDictionary(p => p.Key, p => p.Value!, StringComparer.Ordinal);
    }

    /// <summary>True when the secrets file exists; a directory in its place is an error, not "no secrets".</summary>
    public static bool Exists(SecretsLocation location)
    {
        if (Directory.Exists(location.SecretsFile))
        {
            throw new SecretsException(SecretsErrorKind.Configuration, $"secrets file {location.SecretsFile} is a directory");
        }

        return File.Exists(location.SecretsFile);
    }

    /// <summary>The master key; throws when there is none (so a secrets file can never be orphaned by a new key).</summary>
    public static MasterKey RequireKey(SecretsLocation location) =>
        MasterKeyLocator.Find(location) ?? throw new SecretsException(
            SecretsErrorKind.Configuration,
            $"no master key found for secrets file {location.SecretsFile}: {MasterKeyLocator.Sources(location)}");

    /// <summary>
    /// The master key, or a new one written to the key file (0600, in a 0700 directory) when no key exists
    /// anywhere and neither does a secrets file; <paramref name="created"/> says which.
    /// </summary>
    public static MasterKey FindOrCreateKey(SecretsLocation location, out bool created)
    {
        created = false;
        if (MasterKeyLocator.Find(location) is { } existing)
        {
            return existing;
        }

        if (Exists(location))
        {
            // A new key could never open the existing file: insist on the old one.
            return RequireKey(location);
        }

        using var generated = MasterKey.Generate();
        WriteKeyFile(location.KeyFile, generated, replace: false);
        AddGitIgnore(location.KeyFile);
        created = true;
        return generated.WithSource(MasterKeySource.KeyFile, $"key file {location.KeyFile}", location.KeyFile);
    }

    /// <summary>Every secret in the file, in name order; empty when the file does not exist.</summary>
    public static List<SecretEntry> Read(SecretsLocation location, MasterKey key, Action<string>? warn = null)
    {
        var path = location.SecretsFile;
        if (!Exists(location))
        {
            return [];
        }

        byte[] content;
        try
        {
            var mode = File.GetUnixFileMode(path);
            if ((mode & GroupOrOthersRead) != 0)
            {
                warn?.Invoke($"secrets file {path} is readable by group or others (mode {MasterKeyLocator.Octal(mode)}): its values are encrypted, but its names are not private; chmod 600 {path}");
            }

            content = BoundedFile.ReadAllBytes(path, MaxFileSize);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new SecretsException(SecretsErrorKind.Io, $"cannot read secrets file {path}: {e.Message}", e);
        }

        try
        {
            return SecretsFile.Decode(content, key, path);
        }
        catch (SecretsException e) when (e.Kind == SecretsErrorKind.WrongKey && PendingKeyHint(location, SecretsFile.ReadKeyId(content)) is { } hint)
        {
            throw new SecretsException(SecretsErrorKind.WrongKey, e.Message + hint, e);
        }
    }

    /// <summary>Encrypts <paramref name="entries"/> under <paramref name="key"/> and replaces the secrets file atomically.</summary>
    public static void Write(SecretsLocation location, MasterKey key, IEnumerable<SecretEntry> entries) =>
        Write(location, key, entries, AtomicFile.OpenTemporary);

    internal static void Write(SecretsLocation location, MasterKey key, IEnumerable<SecretEntry> entries, Func<string, Stream> openTemporary)
    {
        var content = SecretsFile.Encode(entries, key);
        try
        {
            AtomicFile.Write(location.SecretsFile, content, overwrite: true, openTemporary);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new SecretsException(SecretsErrorKind.Io, $"cannot write secrets file {location.SecretsFile}: {e.Message}; the old file is unchanged", e);
        }
    }

    /// <summary>
    /// Re-encrypts every secret under a new random key. The order makes every crash recoverable: the new key
    /// is saved first (to <c>KEYFILE.new</c>, or <paramref name="newKeyFile"/>), then the secrets file is
    /// replaced, and only then does the new key take the key file's place. A key that did not come from the
    /// key file (TAPSTER_MASTER_KEY, systemd credential) cannot be replaced by Tapster: it stays in
    /// <c>KEYFILE.new</c> for the operator to install.
    /// </summary>
    public static KeyRotation RotateKey(SecretsLocation location, string? newKeyFile = null)
    {
        if (!Exists(location))
        {
            throw new SecretsException(SecretsErrorKind.NotFound, $"secrets file {location.SecretsFile} does not exist: nothing to rotate");
        }

        // A named new key file must be new: writing the key over the secrets file, the current key or
        // any other file would lose what it held, and the secrets with it.
        if (newKeyFile is not null && (File.Exists(newKeyFile) || Directory.Exists(newKeyFile)))
        {
            throw new SecretsException(SecretsErrorKind.Configuration, $"--new-key-file {Path.GetFullPath(newKeyFile)} already exists: name a file that does not, so nothing is overwritten");
        }

        using var oldKey = RequireKey(location);
        var entries = Read(location, oldKey);
        using var newKey = MasterKey.Generate();
        var installInPlace = newKeyFile is null && oldKey.Source == MasterKeySource.KeyFile;
        var keyFile = oldKey.FilePath ?? location.KeyFile;
        var pending = newKeyFile is null ? keyFile + ".new" : Path.GetFullPath(newKeyFile);

        // The secrets file just opened with the current key, so a KEYFILE.new left by an interrupted
        // rotation opens nothing and may be replaced.
        WriteKeyFile(pending, newKey, replace: true);
        Write(location, newKey, entries);
        if (!installInPlace)
        {
            return new KeyRotation(entries.Count, oldKey.KeyId, newKey.KeyId, pending, Installed: false, oldKey.Source);
        }

        try
        {
            File.Move(pending, keyFile, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new SecretsException(
                SecretsErrorKind.Io,
                $"secrets file {location.SecretsFile} now needs the new key in {pending}, but it could not replace {keyFile}: {e.Message}; mv {pending} {keyFile}",
                e);
        }

        return new KeyRotation(entries.Count, oldKey.KeyId, newKey.KeyId, keyFile, Installed: true, oldKey.Source);
    }

    private static void WriteKeyFile(string path, MasterKey key, bool replace)
    {
        var text = Encoding.ASCII.GetBytes(key.ToFileText());
        try
        {
            if (replace)
            {
                AtomicFile.Replace(path, text);
            }
            else
            {
                AtomicFile.CreateNew(path, text);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new SecretsException(SecretsErrorKind.Io, $"cannot write key file {path}: {e.Message}", e);
        }
        finally
        {
            System.Security.Cryptography.CryptographicOperations.ZeroMemory(text);
        }
    }

    // The key must never be committed beside the encrypted file (Rails does the same for its master.key).
    // Only in Tapster's own directory: a --key-file elsewhere is the operator's business.
    private static void AddGitIgnore(string keyFile)
    {
        var directory = Path.GetDirectoryName(keyFile)!;
        var ignore = Path.Combine(directory, ".gitignore");
        try
        {
            if (Path.GetFileName(directory) == SecretsLocation.DefaultDirectory && !File.Exists(ignore))
            {
                File.WriteAllText(ignore, $"# The master key must never be committed.\n{Path.GetFileName(keyFile)}\n{Path.GetFileName(keyFile)}.new\n");
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A convenience only: the key file itself was written.
        }
    }

    private static string? PendingKeyHint(SecretsLocation location, string fileKeyId)
    {
        var pending = location.KeyFile + ".new";
        try
        {
            return File.Exists(pending) && MasterKey.TryKeyIdOf(File.ReadAllBytes(pending)) == fileKeyId
                ? $"; the key in {pending} matches it (left by rotate-key): install it, e.g. mv {pending} {location.KeyFile}"
                : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}

using System.Text;
using Tapster.Configuration;

namespace Tapster.Secrets;

/// <summary>
/// Finds the master key, first source wins: TAPSTER_MASTER_KEY, then the key file, then the systemd
/// credential <c>$CREDENTIALS_DIRECTORY/tapster-master-key</c>.
/// </summary>
internal static class MasterKeyLocator
{
    private const UnixFileMode GroupOrOthers =
        UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.OtherRead | UnixFileMode.OtherWrite;

    /// <summary>The key, or null when no source holds one. A source that exists but is wrong throws.</summary>
    public static MasterKey? Find(SecretsLocation location)
    {
        if (location.EnvironmentKey is { } text)
        {
            return MasterKey.Parse(Encoding.UTF8.GetBytes(text), MasterKeySource.Environment, SecretsLocation.MasterKeyVariable);
        }

        if (location.KeyFileExplicit || File.Exists(location.KeyFile) || Directory.Exists(location.KeyFile))
        {
            return ReadKeyFile(location.KeyFile, MasterKeySource.KeyFile, checkMode: true);
        }

        if (location.CredentialsDirectory is { } credentials && Path.Combine(credentials, SecretsLocation.CredentialName) is var path && File.Exists(path))
        {
            // systemd makes credential files private to the service (a 0500 ramfs directory): no mode check.
            return ReadKeyFile(path, MasterKeySource.Credential, checkMode: false);
        }

        return null;
    }

    /// <summary>A one-line hint listing the key sources, for "no master key" errors.</summary>
    public static string Sources(SecretsLocation location) =>
        $"set {SecretsLocation.MasterKeyVariable}, put the key in {location.KeyFile} (mode 0600), or pass the systemd credential {SecretsLocation.CredentialName}";

    /// <summary>Reads and parses a key file, refusing one that group or others may read or write.</summary>
    public static MasterKey ReadKeyFile(string path, MasterKeySource source, bool checkMode)
    {
        var origin = source == MasterKeySource.Credential ? $"systemd credential {path}" : $"key file {path}";
        if (Directory.Exists(path))
        {
            throw new SecretsException(SecretsErrorKind.Configuration, $"{origin} is a directory, not a key file");
        }

        if (!File.Exists(path))
        {
            throw new SecretsException(SecretsErrorKind.Configuration, $"{origin} does not exist");
        }

        if (checkMode)
        {
            var mode = File.GetUnixFileMode(path);
            if ((mode & GroupOrOthers) != 0)
            {
                throw new SecretsException(
                    SecretsErrorKind.Configuration,
                    $"{origin} is accessible by group or others (mode {Octal(mode)}); refusing to use it: chmod 600 {path}");
            }
        }

        var buffer = new byte[MasterKey.MaxEncodedLength + 1];
        try
        {
            int length;
            try
            {
                // Bounded and non-blocking: a key file that is a FIFO must not hang Tapster.
                var content = BoundedFile.ReadAllBytes(path, buffer.Length);
                length = content.Length;
                content.CopyTo(buffer, 0);
                System.Security.Cryptography.CryptographicOperations.ZeroMemory(content);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new SecretsException(SecretsErrorKind.Configuration, $"cannot read {origin}: {e.Message}", e);
            }

            if (length > MasterKey.MaxEncodedLength)
            {
                throw new SecretsException(SecretsErrorKind.Configuration, $"{origin} is larger than {MasterKey.MaxEncodedLength} bytes: not a key file");
            }

            return MasterKey.Parse(buffer.AsSpan(0, length), source, origin, path);
        }
        finally
        {
            System.Security.Cryptography.CryptographicOperations.ZeroMemory(buffer);
        }
    }

    public static string Octal(UnixFileMode mode) => "0" + Convert.ToString((int)mode & 0x1FF, 8);
}

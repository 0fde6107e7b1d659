namespace Tapster.Secrets;

/// <summary>
/// Where the secrets file and the master key are, resolved once from flags, environment and defaults.
/// A class, not a record: a record's generated ToString would print <see cref="EnvironmentKey"/>.
/// </summary>
internal sealed class SecretsLocation
{
    /// <summary>Beside the app (the current directory), like a venv: one project, one secrets file.</summary>
    public const string DefaultDirectory = ".tapster";

    public const string SecretsFileVariable = "TAPSTER_SECRETS_FILE";
    public const string MasterKeyVariable = "TAPSTER_MASTER_KEY";
    public const string KeyFileVariable = "TAPSTER_MASTER_KEY_FILE";

    /// <summary>systemd's LoadCredential=/SetCredential= directory (systemd.exec(5), "Credentials").</summary>
    public const string CredentialsDirectoryVariable = "CREDENTIALS_DIRECTORY";

    public const string CredentialName = "tapster-master-key";

    public required string SecretsFile { get; init; }

    public required string KeyFile { get; init; }

    /// <summary>True when the key file was named by --key-file or TAPSTER_MASTER_KEY_FILE: then it must exist.</summary>
    public bool KeyFileExplicit { get; init; }

    /// <summary>The value of TAPSTER_MASTER_KEY, when set and not empty.</summary>
    public string? EnvironmentKey { get; init; }

    public string? CredentialsDirectory { get; init; }

    /// <summary>
    /// Flags beat their environment twins; relative paths are taken from <paramref name="baseDirectory"/>
    /// (the app's directory for <c>serve</c>, the current directory for <c>tapster secrets</c>).
    /// </summary>
    public static SecretsLocation Resolve(string baseDirectory, string? fileFlag = null, string? keyFileFlag = null, Func<string, string?>? environment = null)
    {
        environment ??= Environment.GetEnvironmentVariable;
        var file = NonEmpty(fileFlag) ?? NonEmpty(environment(SecretsFileVariable)) ?? Path.Combine(DefaultDirectory, "secrets.enc");
        var keyFile = NonEmpty(keyFileFlag) ?? NonEmpty(environment(KeyFileVariable));
        var secretsPath = Path.GetFullPath(file, baseDirectory);
        var keyPath = Path.GetFullPath(keyFile ?? Path.Combine(DefaultDirectory, "master.key"), baseDirectory);
        if (secretsPath == keyPath)
        {
            throw new SecretsException(SecretsErrorKind.Configuration, $"the secrets file and the master key file are both {secretsPath}: writing either would destroy the other");
        }

        return new SecretsLocation
        {
            SecretsFile = secretsPath,
            KeyFile = keyPath,
            KeyFileExplicit = keyFile is not null,
            EnvironmentKey = NonEmpty(environment(MasterKeyVariable)),
            CredentialsDirectory = NonEmpty(environment(CredentialsDirectoryVariable)),
        };
    }

    private static string? NonEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;
}

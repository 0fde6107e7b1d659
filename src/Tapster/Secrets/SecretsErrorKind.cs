namespace Tapster.Secrets;

/// <summary>What went wrong with secrets; decides the exit code (see <see cref="SecretsException.ExitCode"/>).</summary>
internal enum SecretsErrorKind
{
    /// <summary>A bad name, flag, dotenv line, missing or malformed master key, or a key file others can read.</summary>
    Configuration,

    /// <summary>The master key is well-formed but is not the one the secrets file was written with.</summary>
    WrongKey,

    /// <summary>The secrets file is truncated, damaged, tampered with, or not a secrets file at all.</summary>
    Damaged,

    /// <summary>The named secret (or the secrets file) does not exist.</summary>
    NotFound,

    /// <summary>The file system refused a read or a write.</summary>
    Io,
}

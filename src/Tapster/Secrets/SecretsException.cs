namespace Tapster.Secrets;

/// <summary>
/// A secrets operation that cannot go on. The message is one line that names the file and the problem,
/// ready to follow <c>tapster: error: </c>; it never contains a secret value or key material.
/// </summary>
internal sealed class SecretsException : Exception
{
    /// <summary>The user's input or configuration is wrong (usage, names, keys): the CLI exits 2.</summary>
    public const int ConfigurationExitCode = 2;

    /// <summary>Everything else (damaged file, missing secret, I/O): the CLI exits 1.</summary>
    public const int FailureExitCode = 1;

    public SecretsException()
    {
    }

    public SecretsException(string message)
        : this(SecretsErrorKind.Configuration, message)
    {
    }

    public SecretsException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public SecretsException(SecretsErrorKind kind, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Kind = kind;
    }

    public SecretsErrorKind Kind { get; }

    public int ExitCode => Kind is SecretsErrorKind.Configuration or SecretsErrorKind.WrongKey ? ConfigurationExitCode : FailureExitCode;
}

namespace Tapster.Secrets;

/// <summary>
/// Secret names become environment variable names in the workers, so they follow the portable shell rule
/// <c>[A-Za-z_][A-Za-z0-9_]*</c>.
/// </summary>
internal static class SecretName
{
    public const int MaxLength = 128;

    /// <summary>Tapster's own settings and its worker handshake (TAPSTER_SOCKET, TAPSTER_TOKEN, ...) use this prefix.</summary>
    public const string ReservedPrefix = "TAPSTER_";

    /// <summary>Null when <paramref name="name"/> is acceptable, else why not (one line, quoting the name).</summary>
    public static string? Check(string name)
    {
        if (name.Length == 0)
        {
            return "a secret name cannot be empty";
        }

        if (name.Length > MaxLength)
        {
            return $"secret name '{name[..20]}...' is longer than {MaxLength} characters";
        }

        if (!(char.IsAsciiLetter(name[0]) || name[0] == '_') || !HasOnlyNameCharacters(name.AsSpan(1)))
        {
            return $"invalid secret name '{Printable(name)}': use letters, digits and '_', not starting with a digit";
        }

        if (name.StartsWith(ReservedPrefix, StringComparison.Ordinal))
        {
            return $"secret name '{name}' is reserved: names starting with {ReservedPrefix} belong to Tapster";
        }

        return null;
    }

    public static void Validate(string name)
    {
        if (Check(name) is { } problem)
        {
            throw new SecretsException(SecretsErrorKind.Configuration, problem);
        }
    }

    private static bool HasOnlyNameCharacters(ReadOnlySpan<char> rest)
    {
        foreach (var c in rest)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c != '_')
            {
                return false;
            }
        }

        return true;
    }

    // Names come from argv and dotenv files: keep control characters out of the one-line error.
    private static string Printable(string name) =>
        string.Create(name.Length, name, static (span, source) =>
        {
            for (var i = 0; i < source.Length; i++)
            {
                span[i] = char.IsControl(source[i]) ? '?' : source[i];
            }
        });
}

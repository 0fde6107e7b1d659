namespace Tapster.Edge.Headers;

/// <summary>RFC 9110 5.6.2 tokens: what header names and methods are made of.</summary>
internal static class HttpToken
{
    public static bool IsTokenChar(char c) => char.IsAsciiLetterOrDigit(c) || "!#$%&'*+-.^_`|~".Contains(c, StringComparison.Ordinal);

    /// <summary>The same rule for latin-1 bytes as they come from a worker.</summary>
    public static bool IsValid(ReadOnlySpan<byte> text)
    {
        if (text.IsEmpty)
        {
            return false;
        }

        foreach (var b in text)
        {
            if (!IsTokenChar((char)b))
            {
                return false;
            }
        }

        return true;
    }

    public static bool IsValid(ReadOnlySpan<char> text)
    {
        if (text.IsEmpty)
        {
            return false;
        }

        foreach (var c in text)
        {
            if (!IsTokenChar(c))
            {
                return false;
            }
        }

        return true;
    }
}

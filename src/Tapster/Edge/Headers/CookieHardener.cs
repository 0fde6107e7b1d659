using System.Text;

namespace Tapster.Edge.Headers;

/// <summary>
/// Adds Secure, HttpOnly and SameSite to the app's Set-Cookie headers where they are missing. Attributes
/// are found as browsers find them (RFC 6265 5.2), so a cookie whose value says "secure" is not secure.
/// </summary>
internal sealed class CookieHardener
{
    /// <summary>What each combination of missing attributes appends, indexed by <see cref="CookieAttributes"/>.</summary>
    private readonly string[] _suffixes = new string[8];
    private readonly CookieAttributes _wanted;
    private readonly byte[][] _readableByScripts;

    public CookieHardener(HeaderSettings settings)
    {
        _wanted = (settings.CookieSecure ? CookieAttributes.Secure : 0)
            | (settings.CookieHttpOnly ? CookieAttributes.HttpOnly : 0)
            | (settings.CookieSameSite.Length > 0 ? CookieAttributes.SameSite : 0);
        _readableByScripts = [.. settings.CookieHttpOnlyExcept.Select(Encoding.Latin1.GetBytes)];
        for (var missing = 0; missing < _suffixes.Length; missing++)
        {
            var attributes = (CookieAttributes)missing;
            _suffixes[missing] = (attributes.HasFlag(CookieAttributes.Secure) ? "; Secure" : "")
                + (attributes.HasFlag(CookieAttributes.HttpOnly) ? "; HttpOnly" : "")
                + (attributes.HasFlag(CookieAttributes.SameSite) ? "; SameSite=" + settings.CookieSameSite : "");
        }
    }

    /// <summary>The header's value as the client gets it: latin-1, one char per byte (PEP 3333), plus what was missing.</summary>
    public string Harden(ReadOnlySpan<byte> setCookie, bool isHttps)
    {
        var wanted = isHttps ? _wanted : _wanted & ~CookieAttributes.Secure;
        if ((wanted & CookieAttributes.HttpOnly) != 0 && IsReadableByScripts(setCookie))
        {
            wanted &= ~CookieAttributes.HttpOnly;
        }

        var suffix = _suffixes[(int)(wanted & ~Attributes(setCookie))];
        if (suffix.Length == 0)
        {
            return Encoding.Latin1.GetString(setCookie);
        }

        var length = setCookie.Length + suffix.Length;
        var text = length <= 1024 ? stackalloc char[length] : new char[length];
        Encoding.Latin1.GetChars(setCookie, text);
        suffix.CopyTo(text[setCookie.Length..]);
        return new string(text);
    }

    /// <summary>Whether the cookie's name (before the first '=', spaces trimmed) is one scripts must read.</summary>
    private bool IsReadableByScripts(ReadOnlySpan<byte> setCookie)
    {
        var equals = setCookie.IndexOf((byte)'=');
        var name = (equals < 0 ? setCookie : setCookie[..equals]).Trim(" \t"u8);
        foreach (var readable in _readableByScripts)
        {
            if (name.SequenceEqual(readable))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Which of Secure, HttpOnly and SameSite a Set-Cookie value has, by attribute name, in any case.</summary>
    public static CookieAttributes Attributes(ReadOnlySpan<byte> setCookie)
    {
        var found = CookieAttributes.None;
        var separator = setCookie.IndexOf((byte)';');
        // The name=value pair comes first and ends at the first ';': nothing in it is an attribute.
        var rest = separator < 0 ? [] : setCookie[(separator + 1)..];
        while (!rest.IsEmpty)
        {
            separator = rest.IndexOf((byte)';');
            var attribute = separator < 0 ? rest : rest[..separator];
            rest = separator < 0 ? [] : rest[(separator + 1)..];
            var equals = attribute.IndexOf((byte)'=');
            var name = (equals < 0 ? attribute : attribute[..equals]).Trim(" \t"u8);
            found |= Ascii.EqualsIgnoreCase(name, "Secure"u8) ? CookieAttributes.Secure
                : Ascii.EqualsIgnoreCase(name, "HttpOnly"u8) ? CookieAttributes.HttpOnly
                : Ascii.EqualsIgnoreCase(name, "SameSite"u8) ? CookieAttributes.SameSite
                : CookieAttributes.None;
        }

        return found;
    }
}

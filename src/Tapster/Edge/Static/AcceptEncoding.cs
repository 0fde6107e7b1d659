using System.Globalization;
using Microsoft.Extensions.Primitives;

namespace Tapster.Edge.Static;

/// <summary>Reads Accept-Encoding (RFC 9110 12.5.3) far enough to pick a precompressed file.</summary>
internal static class AcceptEncoding
{
    /// <summary>
    /// Whether the client takes <paramref name="coding"/>: named with a q above 0, or covered by
    /// <c>*</c> when not named at all.
    /// </summary>
    public static bool Accepts(StringValues header, string coding)
    {
        bool? wildcard = null;
        foreach (var value in header)
        {
            var text = value.AsSpan();
            foreach (var range in text.Split(','))
            {
                var item = text[range];
                var semicolon = item.IndexOf(';');
                var name = (semicolon < 0 ? item : item[..semicolon]).Trim();
                var accepted = semicolon < 0 || QualityAboveZero(item[(semicolon + 1)..]);
                if (name.Equals(coding, StringComparison.OrdinalIgnoreCase))
                {
                    return accepted;
                }

                if (name is "*")
                {
                    wildcard = accepted;
                }
            }
        }

        return wildcard ?? false;
    }

    private static bool QualityAboveZero(ReadOnlySpan<char> parameters)
    {
        foreach (var range in parameters.Split(';'))
        {
            var parameter = parameters[range].Trim();
            if (parameter.StartsWith("q=", StringComparison.OrdinalIgnoreCase))
            {
                return double.TryParse(parameter[2..], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var q) && q > 0;
            }
        }

        return true;
    }
}

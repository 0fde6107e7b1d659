using System.Globalization;
using Microsoft.Extensions.Primitives;

namespace Tapster.Edge;

/// <summary>
/// Reads Accept-Encoding (RFC 9110 12.5.3): which content codings a client takes and how much it
/// prefers each, for static files' precompressed siblings and for compressing the app's responses.
/// </summary>
internal static class AcceptEncoding
{
    /// <summary>
    /// The client's preferences for two codings, 0 to 1 each, from one reading of the header: a coding's
    /// own q (1 when it is named without one), else the q of <c>*</c> when it is not named at all, else 0.
    /// </summary>
    public static (double First, double Second) Qualities(StringValues header, string first, string second)
    {
        double? wildcard = null, firstQ = null, secondQ = null;
        foreach (var value in header)
        {
            var text = value.AsSpan();
            foreach (var range in text.Split(','))
            {
                var item = text[range];
                var semicolon = item.IndexOf(';');
                var name = (semicolon < 0 ? item : item[..semicolon]).Trim();
                var quality = semicolon < 0 ? 1 : QualityOf(item[(semicolon + 1)..]);
                if (name.Equals(first, StringComparison.OrdinalIgnoreCase))
                {
                    firstQ ??= quality;
                }

                if (name.Equals(second, StringComparison.OrdinalIgnoreCase))
                {
                    secondQ ??= quality;
                }

                if (name is "*")
                {
                    wildcard = quality;
                }
            }
        }

        return (firstQ ?? wildcard ?? 0, secondQ ?? wildcard ?? 0);
    }

    /// <summary>The q parameter among <paramref name="parameters"/>; a malformed one counts as 0 (refused).</summary>
    private static double QualityOf(ReadOnlySpan<char> parameters)
    {
        foreach (var range in parameters.Split(';'))
        {
            var parameter = parameters[range].Trim();
            if (parameter.StartsWith("q=", StringComparison.OrdinalIgnoreCase))
            {
                return double.TryParse(parameter[2..], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var q) ? Math.Clamp(q, 0, 1) : 0;
            }
        }

        return 1;
    }
}

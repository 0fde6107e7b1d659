using System.Globalization;
using System.Text;

namespace Tapster.Telemetry;

/// <summary>
/// Makes text that came from outside (a client's path, an app's output) safe for a terminal: control
/// characters are shown escaped, so nobody can forge log lines or send escape sequences to an operator,
/// and so are the Unicode bidirectional controls and line separators, which can reorder or split what
/// the operator reads without a single control character ("Trojan Source").
/// </summary>
internal static class TerminalText
{
    public static string Sanitize(string text)
    {
        if (!text.AsSpan().ContainsAny(Escaped))
        {
            return text;
        }

        var builder = new StringBuilder(text.Length + 8);
        foreach (var c in text)
        {
            if (Escaped.Contains(c))
            {
                builder.Append(Escape(c));
            }
            else
            {
                builder.Append(c);
            }
        }

        return builder.ToString();
    }

    /// <summary>\x1b for a byte-sized character, \u202e beyond.</summary>
    private static string Escape(char c) => c <= '\u00ff'
        ? string.Create(CultureInfo.InvariantCulture, $"\\x{(int)c:x2}")
        : string.Create(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}");

    /// <summary>C0, DEL and C1; the bidi marks, embeddings, overrides and isolates; line and paragraph separators.</summary>
    private static readonly System.Buffers.SearchValues<char> Escaped = System.Buffers.SearchValues.Create(
        [.. Enumerable.Range(0, 0xa0).Select(i => (char)i).Where(char.IsControl),
         '\u061c', '\u200e', '\u200f', '\u202a', '\u202b', '\u202c', '\u202d', '\u202e', '\u2066', '\u2067', '\u2068', '\u2069', '\u2028', '\u2029']);
}

using System.Buffers;
using System.Text;

namespace Tapster.Secrets;

/// <summary>
/// Masks known secret values in text, for log lines that might carry one (an app printing its config, a
/// traceback quoting a connection string): each occurrence becomes <c>[redacted NAME]</c>. Values shorter
/// than <see cref="MinLength"/> are left alone: masking every "1" or "on" would wreck the logs and hide
/// nothing worth hiding. Where values overlap, the longest match wins. Thread-safe once built.
/// </summary>
internal sealed class SecretRedactor
{
    public const int MinLength = 4;

    private readonly (string Value, string Mask)[] _byLengthDescending;
    private readonly SearchValues<string>? _values;

    /// <param name="secrets">Name and value pairs; a name may come more than once (its value before and after a reload).</param>
    public SecretRedactor(IEnumerable<KeyValuePair<string, string>> secrets)
    {
        _byLengthDescending = [.. secrets
            .SelectMany(WithEachLine)
            .Where(s => s.Value.Length >= MinLength)
            .GroupBy(s => s.Value, StringComparer.Ordinal)
            .Select(g => (g.Key, $"[redacted {string.Join('|', g.Select(s => s.Key).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal))}]"))
            .OrderByDescending(p => p.Key.Length)];
        _values = _byLengthDescending.Length == 0
            ? null
            : SearchValues.Create([.. _byLengthDescending.Select(p => p.Value)], StringComparison.Ordinal);
    }

    public static SecretRedactor Empty { get; } = new(new Dictionary<string, string>());

    /// <summary>
    /// A multi-line value (a PEM key, a JSON credential) and each of its lines: app output is logged
    /// line by line, so the whole value never appears in one log line.
    /// </summary>
    private static IEnumerable<KeyValuePair<string, string>> WithEachLine(KeyValuePair<string, string> secret) =>
        secret.Value.Contains('\n', StringComparison.Ordinal)
            ? [secret, .. secret.Value.Split('\n').Select(line => KeyValuePair.Create(secret.Key, line.Trim()))]
            : [secret];

    public string Redact(string text)
    {
        if (_values is null)
        {
            return text;
        }

        var span = text.AsSpan();
        var first = span.IndexOfAny(_values);
        if (first < 0)
        {
            return text;
        }

        var result = new StringBuilder(text.Length);
        var at = 0;
        for (var hit = first; hit >= 0; hit = span[at..].IndexOfAny(_values) is var next and >= 0 ? at + next : -1)
        {
            result.Append(span[at..hit]);
            var (value, mask) = LongestAt(span[hit..]);
            result.Append(mask);
            at = hit + value.Length;
        }

        return result.Append(span[at..]).ToString();
    }

    private (string Value, string Mask) LongestAt(ReadOnlySpan<char> text)
    {
        foreach (var pair in _byLengthDescending)
        {
            if (text.StartsWith(pair.Value, StringComparison.Ordinal))
            {
                return pair;
            }
        }

        throw new InvalidOperationException("SearchValues reported a match that no value starts");
    }
}

namespace Tapster.Configuration;

/// <summary>The nearest known name to a mistyped one, by Levenshtein distance.</summary>
internal static class DidYouMean
{
    /// <summary>
    /// The candidate nearest to <paramref name="typed"/>, if near enough to be a typo: at most a third
    /// of its length away (and at least 2 edits allowed), so "threds" finds "threads" but "foo" finds nothing.
    /// </summary>
    public static string? Suggest(string typed, IEnumerable<(string Spelling, string Suggestion)> candidates)
    {
        var allowed = Math.Max(2, typed.Length / 3);
        var best = candidates
            .Select(c => (c.Suggestion, Distance: Distance(typed, c.Spelling)))
            .Where(c => c.Distance <= allowed)
            .OrderBy(c => c.Distance)
            .FirstOrDefault();
        return best.Suggestion;
    }

    public static int Distance(string a, string b)
    {
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++)
        {
            previous[j] = j;
        }

        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                var substitution = previous[j - 1] + (char.ToLowerInvariant(a[i - 1]) == char.ToLowerInvariant(b[j - 1]) ? 0 : 1);
                current[j] = Math.Min(substitution, Math.Min(previous[j], current[j - 1]) + 1);
            }

            (previous, current) = (current, previous);
        }

        return previous[b.Length];
    }
}

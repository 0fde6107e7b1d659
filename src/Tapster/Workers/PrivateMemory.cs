using System.Globalization;

namespace Tapster.Workers;

/// <summary>
/// A process's private memory: the pages no other process shares (Private_Clean + Private_Dirty in
/// <c>/proc/PID/smaps_rollup</c>, the "USS"). It is what a leak grows and what a restart gives back.
/// RSS, which uWSGI's reload-on-rss uses, is the wrong figure for forked workers: it counts every page
/// of the zygote a worker has touched, shared copy-on-write with its siblings, which a restart frees
/// nowhere.
/// </summary>
internal static class PrivateMemory
{
    /// <summary>The private bytes of <paramref name="pid"/>, or null when it is gone or cannot be read.</summary>
    public static long? Of(int pid)
    {
        string text;
        try
        {
            text = File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/smaps_rollup");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }

        return Parse(text);
    }

    /// <summary>Private_Clean + Private_Dirty of an smaps_rollup text, in bytes; null when neither is there.</summary>
    public static long? Parse(ReadOnlySpan<char> smapsRollup)
    {
        long kibibytes = 0;
        var found = false;
        foreach (var range in smapsRollup.Split('\n'))
        {
            var line = smapsRollup[range];
            var colon = line.IndexOf(':');
            if (colon < 0 || !IsPrivate(line[..colon]))
            {
                continue;
            }

            // "Private_Dirty:      1234 kB": the kernel always writes kB.
            var value = line[(colon + 1)..].Trim();
            if (!value.EndsWith(" kB", StringComparison.Ordinal)
                || !long.TryParse(value[..^3].TrimEnd(), NumberStyles.None, CultureInfo.InvariantCulture, out var amount))
            {
                return null;
            }

            kibibytes += amount;
            found = true;
        }

        return found ? kibibytes * 1024 : null;
    }

    private static bool IsPrivate(ReadOnlySpan<char> field) =>
        field.SequenceEqual("Private_Clean") || field.SequenceEqual("Private_Dirty");
}

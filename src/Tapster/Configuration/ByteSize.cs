using System.Globalization;

namespace Tapster.Configuration;

/// <summary>
/// Sizes as people write them: <c>512KB</c>, <c>10MB</c>, <c>1GiB</c>. KB/MB/GB are powers of 1000 and
/// KiB/MiB/GiB powers of 1024, as in Caddy; the unit is case-insensitive.
/// </summary>
internal static class ByteSize
{
    private static readonly (string Unit, long Factor)[] Units =
    [
        ("kib", 1L << 10), ("mib", 1L << 20), ("gib", 1L << 30), ("tib", 1L << 40),
        ("kb", 1_000), ("mb", 1_000_000), ("gb", 1_000_000_000), ("tb", 1_000_000_000_000), ("b", 1),
    ];

    /// <summary>Parses a size; a plain number counts in <paramref name="plainUnit"/> bytes.</summary>
    public static bool TryParse(string text, long plainUnit, out long bytes)
    {
        bytes = 0;
        text = text.Trim();
        var factor = plainUnit;
        foreach (var (unit, unitFactor) in Units)
        {
            if (text.EndsWith(unit, StringComparison.OrdinalIgnoreCase))
            {
                text = text[..^unit.Length].TrimEnd();
                factor = unitFactor;
                break;
            }
        }

        // Compared before multiplying: a long enough number would overflow even a decimal.
        if (!decimal.TryParse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var value) || value > long.MaxValue / factor)
        {
            return false;
        }

        bytes = (long)(value * factor);
        return true;
    }

    /// <summary>The shortest exact spelling: <c>100MiB</c>, <c>1500KB</c>, <c>1234</c>.</summary>
    public static string Format(long bytes)
    {
        if (bytes == 0)
        {
            return "0";
        }

        var (unit, factor) = Units.Where(u => bytes != 0 && bytes % u.Factor == 0).MaxBy(u => u.Factor);
        if (factor <= 1)
        {
            return bytes.ToString(CultureInfo.InvariantCulture);
        }

        var name = char.ToUpperInvariant(unit[0]) + (unit.Length == 3 ? "iB" : "B");
        return (bytes / factor).ToString(CultureInfo.InvariantCulture) + name;
    }
}

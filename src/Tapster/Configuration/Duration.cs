using System.Globalization;

namespace Tapster.Configuration;

/// <summary>Durations as people write them: <c>30</c> (seconds, like Gunicorn), <c>500ms</c>, <c>30s</c>, <c>5m</c>, <c>1h</c>.</summary>
internal static class Duration
{
    public static bool TryParse(string text, out TimeSpan duration)
    {
        duration = default;
        text = text.Trim();
        var (number, unit) = text.EndsWith("ms", StringComparison.Ordinal) ? (text[..^2], 0.001)
            : text.EndsWith('s') ? (text[..^1], 1.0)
            : text.EndsWith('m') ? (text[..^1], 60.0)
            : text.EndsWith('h') ? (text[..^1], 3600.0)
            : (text, 1.0);
        // double.TryParse takes "NaN" and "Infinity" whatever the style; TimeSpan cannot hold them.
        if (!double.TryParse(number, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var value) || value < 0
            || !double.IsFinite(value * unit) || value * unit > TimeSpan.MaxValue.TotalSeconds / 2)
        {
            return false;
        }

        duration = TimeSpan.FromSeconds(value * unit);
        return true;
    }
}

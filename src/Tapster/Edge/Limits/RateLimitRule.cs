using System.Globalization;

namespace Tapster.Edge.Limits;

/// <summary>
/// One token bucket per client under a URL prefix: <see cref="Requests"/> per <see cref="Period"/> on
/// average, up to <see cref="Burst"/> at once. Clients are told apart by IP address, or by a request
/// header (an API key) when <see cref="Header"/> is set.
/// </summary>
internal sealed record RateLimitRule(string Prefix, int Requests, TimeSpan Period, int Burst, string? Header)
{
    /// <summary>"ip" or "header:NAME", as the config writes it.</summary>
    public string By => Header is null ? "ip" : $"header:{Header}";

    /// <summary>The rate as the config writes it: 10/s, 600/m.</summary>
    public string Rate => $"{Requests.ToString(CultureInfo.InvariantCulture)}/{(Period.TotalSeconds == 1 ? "s" : Period.TotalMinutes == 1 ? "m" : "h")}";

    /// <summary>Reads "10/s", "600/m", "1000/h" (also /second, /minute, /hour).</summary>
    public static bool TryParseRate(string text, out int requests, out TimeSpan period)
    {
        period = default;
        requests = 0;
        var slash = text.IndexOf('/', StringComparison.Ordinal);
        if (slash <= 0 || !int.TryParse(text.AsSpan(0, slash).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out requests) || requests < 1)
        {
            return false;
        }

        period = text[(slash + 1)..].Trim().ToLowerInvariant() switch
        {
            "s" or "sec" or "second" => TimeSpan.FromSeconds(1),
            "m" or "min" or "minute" => TimeSpan.FromMinutes(1),
            "h" or "hour" => TimeSpan.FromHours(1),
            _ => TimeSpan.Zero,
        };
        return period > TimeSpan.Zero;
    }
}

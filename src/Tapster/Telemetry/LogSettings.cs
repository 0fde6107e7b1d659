using Microsoft.Extensions.Logging;

namespace Tapster.Telemetry;

/// <summary><c>[log]</c>: how much of Tapster's own events, and which access lines, reach the log.</summary>
internal sealed record LogSettings
{
    public const string Debug = "debug", Info = "info", Warn = "warn", Error = "error";

    /// <summary>The least severe of Tapster's own events that is logged.</summary>
    public string Level { get; init; } = Info;

    /// <summary>One access line per request; off for a site whose proxy in front logs them already.</summary>
    public bool Access { get; init; } = true;

    /// <summary>
    /// Paths whose successful requests get no access line: a load balancer's health check every few
    /// seconds would otherwise be most of the log. A path covers itself and what is under it.
    /// </summary>
    public IReadOnlyList<string> AccessSkip { get; init; } = [];

    public LogLevel MinimumLevel => Level switch
    {
        Debug => LogLevel.Debug,
        Warn => LogLevel.Warning,
        Error => LogLevel.Error,
        _ => LogLevel.Information,
    };

    public static string? CheckLevel(string level) => level is Debug or Info or Warn or Error
        ? null
        : $"'{level}' is not a log level (use {Debug}, {Info}, {Warn} or {Error})";

    public static string? CheckAccessSkip(IReadOnlyList<string> paths) =>
        paths.FirstOrDefault(p => !p.StartsWith('/') || (p.Length > 1 && p.EndsWith('/'))) is { } bad
            ? $"'{bad}' must start with '/' and not end with one (e.g. /health)"
            : null;
}

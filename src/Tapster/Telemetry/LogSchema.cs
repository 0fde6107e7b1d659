using Tapster.Configuration;

namespace Tapster.Telemetry;

/// <summary>The <c>[log]</c> entries of <see cref="SettingsSchema"/>.</summary>
internal static class LogSchema
{
    public static IReadOnlyList<Setting> Settings { get; } =
    [
        new TypedSetting<string>
        {
            Key = "log.level", Flag = "--log-level", Placeholder = "LEVEL", Parser = ValueParsers.Text,
            Doc = "The least severe of Tapster's own events that is logged: debug, info, warn or error (see docs/logging.md). The access lines and the app's own output have their own settings: the app decides what it writes.",
            Check = LogSettings.CheckLevel,
            Get = s => s.Log.Level, Set = (s, v) => s with { Log = s.Log with { Level = v } },
        },
        new TypedSetting<bool>
        {
            Key = "log.access", Flag = "--no-access-log", Parser = ValueParsers.Boolean, TextParser = ValueParsers.NegatedBoolean,
            Doc = "One access line per request. `access = false`, or the flag --no-access-log, logs none: for a site whose proxy in front logs every request already.",
            FlagDoc = "Log no access lines (a proxy in front logs the requests already). Off by default.",
            Get = s => s.Log.Access, Set = (s, v) => s with { Log = s.Log with { Access = v } },
        },
        new TypedSetting<IReadOnlyList<string>>
        {
            Key = "log.access_skip", Flag = "--access-log-skip", Placeholder = "PATH", Parser = ValueParsers.TextList,
            Doc = "Paths whose requests get no access line when they succeed (status below 400), nginx's `access_log off` in a location: a load balancer's health check (\"/health\") every few seconds would otherwise be most of the log. A path covers itself and everything under it; a failing request there is still logged. The flag repeats; its environment twin is comma-separated.",
            DefaultDoc = "`[]`",
            Check = LogSettings.CheckAccessSkip,
            Get = s => s.Log.AccessSkip, Set = (s, v) => s with { Log = s.Log with { AccessSkip = v } },
        },
    ];
}

using Tapster.Configuration;

namespace Tapster.Edge.Static;

/// <summary>The <c>[static]</c> entries of <see cref="SettingsSchema"/>.</summary>
internal static class StaticSchema
{
    public static IReadOnlyList<Setting> Settings { get; } =
    [
        new TypedSetting<IReadOnlyList<StaticMount>>
        {
            Key = SettingsSchema.StaticTable, Flag = "--static", Placeholder = "PREFIX=DIR", Parser = StaticConfig.Parser,
            Doc = "Files served by Tapster itself, never by a worker: a [static] table of URL prefix = directory (`\"/static\" = \"app/static\"`, relative to the config file), or per prefix `{ dir = \"...\", cache_control = \"...\", dotfiles = true }`. The flag repeats (`--static /static=app/static`, relative to the current directory); its environment twin is comma-separated. See docs/static.md.",
            DefaultDoc = "none",
            Get = s => s.StaticMounts, Set = (s, v) => s with { StaticMounts = v },
        },
        new TypedSetting<string>
        {
            Key = "static_cache_control", Flag = "--static-cache-control", Placeholder = "VALUE", Parser = ValueParsers.Text,
            Doc = "Cache-Control for static files, unless their prefix sets its own; fingerprinted names (app.3f2a91c0.css) always get \"public, max-age=31536000, immutable\".",
            Check = StaticConfig.CheckCacheControl,
            Get = s => s.StaticCacheControl, Set = (s, v) => s with { StaticCacheControl = v },
        },
        new TypedSetting<bool>
        {
            Key = "static_dotfiles", Flag = "--static-dotfiles", Parser = ValueParsers.Boolean,
            Doc = "Serve files and directories whose names start with a dot (.well-known); off, they get 404, so a stray .env or .git stays private. A prefix may set its own `dotfiles`.",
            Get = s => s.StaticDotfiles, Set = (s, v) => s with { StaticDotfiles = v },
        },
    ];

    /// <summary>
    /// Applies the mounts written in the file's <c>[static]</c> table, which the schema loop cannot
    /// read since its keys are URL prefixes; checked even when a flag or the environment wins.
    /// </summary>
    public static ServeSettings ApplyFile(ServeSettings settings, ConfigFile? file, List<ConfigError> errors, List<EffectiveValue> shown)
    {
        if (file is null || file.Static.Count == 0)
        {
            return settings;
        }

        var mounts = StaticConfig.FromFile(file, errors);
        var index = shown.FindIndex(v => v.Key == SettingsSchema.StaticTable);
        if (shown[index].Source != ConfigLoader.DefaultSource)
        {
            return settings;
        }

        settings = settings with { StaticMounts = mounts };
        shown[index] = shown[index] with { Value = StaticConfig.Parser.Format(mounts), Source = file.Static[0].Value.Location.FileAndLine };
        return settings;
    }
}

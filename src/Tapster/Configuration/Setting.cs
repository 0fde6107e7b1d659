using Tomlyn.Syntax;

namespace Tapster.Configuration;

/// <summary>
/// One entry of the schema: where the setting lives in <c>tapster.toml</c>, its flag and environment
/// twin, its type, default and documentation. Parsing, validation, <c>--help</c>, <c>config show</c>
/// and docs/config.md all read these entries, so they cannot disagree.
/// </summary>
internal abstract class Setting
{
    /// <summary>The TOML key path: <c>workers.count</c>.</summary>
    public required string Key { get; init; }

    /// <summary><c>--workers</c>, or a positional argument's name (<c>APP</c>); null = file only.</summary>
    public string? Flag { get; init; }

    public string? Alias { get; init; }

    public required string Doc { get; init; }

    /// <summary>
    /// The flag's own help, for a flag that reads the other way round from its setting (<c>--no-preload</c>
    /// turns <c>preload</c> off): the setting's doc and "Default: true" would describe what the flag does not.
    /// </summary>
    public string? FlagDoc { get; init; }

    /// <summary>The default as the docs say it, when it depends on the machine or needs words.</summary>
    public string? DefaultDoc { get; init; }

    /// <summary>
    /// Rules involving other settings (<c>*</c> with credentials), checked once every setting has its
    /// value: returns the problem, or null.
    /// </summary>
    public Func<ServeSettings, string?> CheckTogether { get; init; } = _ => null;

    /// <summary>A secret's value is masked by <c>config show</c>.</summary>
    public bool Secret { get; init; }

    public bool IsPositional => Flag is not null && !Flag.StartsWith('-');

    /// <summary><c>TAPSTER_</c> and the flag's name in capitals: <c>--max-requests</c> = <c>TAPSTER_MAX_REQUESTS</c>.</summary>
    public string? EnvVar => Flag is null ? null : "TAPSTER_" + Flag.TrimStart('-').Replace('-', '_').ToUpperInvariant();

    /// <summary>What a flag or environment source is called in messages and <c>config show</c>.</summary>
    public string FlagSource => IsPositional ? $"argument {Flag}" : $"flag {Flag}";

    public abstract string TypeName { get; }

    /// <summary>The placeholder in <c>--help</c> when the type's (N, DURATION) says too little.</summary>
    public string? Placeholder { get; init; }

    public abstract string HelpName { get; }

    public abstract CliShape Shape { get; }

    /// <summary>Applies a flag's or environment variable's text; returns the problem, or null.</summary>
    public abstract string? ApplyText(ref ServeSettings settings, string text);

    /// <summary>Applies a value from the file; returns the problem, or null.</summary>
    public abstract string? ApplyToml(ref ServeSettings settings, ValueSyntax value, string fileDirectory);

    /// <summary>The effective value, as TOML.</summary>
    public abstract string Show(ServeSettings settings);

    public string DefaultText(ServeSettings defaults) => DefaultDoc ?? Show(defaults);
}

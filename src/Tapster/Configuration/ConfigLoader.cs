using Tapster.Edge.Static;

namespace Tapster.Configuration;

/// <summary>
/// Builds the one <see cref="ServeSettings"/> every subsystem reads, from flags &gt; environment &gt;
/// <c>tapster.toml</c> &gt; defaults, and collects every problem on the way instead of stopping at the
/// first. The whole file is checked even where a flag overrides it: it is what gets committed.
/// </summary>
internal static class ConfigLoader
{
    /// <summary>A config file is a page or two; past this it is a mistake (or /dev/zero).</summary>
    private const int MaxConfigBytes = 4 * 1024 * 1024;

    public const string FileName = "tapster.toml";
    public const string ConfigFlag = "--config";
    public const string ConfigEnvVar = "TAPSTER_CONFIG";

    /// <summary>The source <c>config show</c> names for a value no flag, variable or file set.</summary>
    public const string DefaultSource = "default";

    public static ConfigResult Load(ConfigInputs inputs)
    {
        var errors = new List<ConfigError>();
        var shown = new List<EffectiveValue>();
        var file = ReadFile(inputs, errors);
        var settings = SettingsSchema.Defaults;
        var fromFileOnly = new Dictionary<string, SourceLocation>(StringComparer.Ordinal);
        foreach (var setting in SettingsSchema.All)
        {
            var source = DefaultSource;
            if (file is not null && file.Values.TryGetValue(setting.Key, out var fromFile))
            {
                if (setting.ApplyToml(ref settings, fromFile.Value, file.Directory) is { } problem)
                {
                    errors.Add(new ConfigError($"{setting.Key} {problem}", fromFile.Location));
                }
                else
                {
                    source = fromFile.Location.FileAndLine;
                    fromFileOnly[setting.Key] = fromFile.Location;
                }
            }

            if (inputs.Flags.TryGetValue(setting.Key, out var flagText))
            {
                fromFileOnly.Remove(setting.Key);
                source = ApplyText(setting, ref settings, flagText, setting.Flag!, setting.FlagSource, errors) ?? source;
            }
            else if (setting.EnvVar is { } name && Environment(inputs, name) is { } envText)
            {
                fromFileOnly.Remove(setting.Key);
                source = ApplyText(setting, ref settings, envText, name, $"env {name}", errors) ?? source;
            }

            shown.Add(new EffectiveValue(setting.Key, setting.Show(settings), source, setting.Secret));
        }

        // Settings are checked together only once each is right on its own: a refused value is left at
        // its default, and "tls.listen needs a certificate" after a refused certificate would mislead.
        foreach (var setting in errors.Count == 0 ? SettingsSchema.All : [])
        {
            if (setting.CheckTogether(settings) is { } problem)
            {
                errors.Add(new ConfigError($"{setting.Key} {problem}", fromFileOnly.GetValueOrDefault(setting.Key)));
            }
        }

        UnknownVariables(inputs, errors);
        settings = StaticSchema.ApplyFile(settings, file, errors, shown);
        settings = settings with { AppEnvironment = AppEnvironmentBuilder.Build(settings, file, inputs, errors, shown) };
        return new ConfigResult(settings, errors, shown, file?.Name);
    }

    /// <summary>Every variable Tapster reads: a setting's twin, the config file, the secrets' key and file.</summary>
    private static readonly string[] KnownVariables =
    [
        .. SettingsSchema.All.Select(s => s.EnvVar).OfType<string>(),
        ConfigEnvVar, Secrets.SecretsLocation.SecretsFileVariable, Secrets.SecretsLocation.MasterKeyVariable, Secrets.SecretsLocation.KeyFileVariable,
    ];

    /// <summary>
    /// A TAPSTER_ variable Tapster does not read is a typo until proven otherwise (TAPSTER_WORKER=8
    /// would otherwise leave the default worker count running unnoticed), so it is an error, as an
    /// unknown key in tapster.toml is.
    /// </summary>
    private static void UnknownVariables(ConfigInputs inputs, List<ConfigError> errors)
    {
        foreach (var name in inputs.Environment.Keys.Where(k => k.StartsWith(Secrets.SecretName.ReservedPrefix, StringComparison.Ordinal)).Order(StringComparer.Ordinal))
        {
            if (!KnownVariables.Contains(name, StringComparer.Ordinal))
            {
                var suggestion = DidYouMean.Suggest(name, KnownVariables.Select(v => (v, v)));
                var hint = suggestion is null ? "`tapster config docs` lists every setting and its variable" : $"did you mean {suggestion}?";
                errors.Add(new ConfigError($"environment variable {name} is not one Tapster reads ({hint})"));
            }
        }
    }

    /// <summary>Applies a flag's or variable's text; returns the source to show, or null when it was wrong.</summary>
    private static string? ApplyText(Setting setting, ref ServeSettings settings, string text, string name, string source, List<ConfigError> errors)
    {
        if (setting.ApplyText(ref settings, text) is { } problem)
        {
            errors.Add(new ConfigError($"{name} {problem}"));
            return null;
        }

        return source;
    }

    /// <summary>A setting as given by its flag, else by its environment twin; null when neither was.</summary>
    private static string? FlagOrEnvironment(ConfigInputs inputs, string key) =>
        inputs.Flags.GetValueOrDefault(key) ?? Environment(inputs, SettingsSchema.Find(key)!.EnvVar!);

    /// <summary>An environment variable's value; empty counts as unset, as it always did.</summary>
    private static string? Environment(ConfigInputs inputs, string name) =>
        inputs.Environment.TryGetValue(name, out var value) && value.Length > 0 ? value : null;

    /// <summary>
    /// <c>--config</c> or TAPSTER_CONFIG (which must exist), else tapster.toml next to the app: in the
    /// --chdir directory, else the directory a path APP names, else the current one (optional: no file
    /// means flags, environment and defaults).
    /// </summary>
    private static ConfigFile? ReadFile(ConfigInputs inputs, List<ConfigError> errors)
    {
        var (given, how) = inputs.ConfigFlag is { Length: > 0 } flag ? (flag, ConfigFlag)
            : Environment(inputs, ConfigEnvVar) is { } env ? (env, ConfigEnvVar)
            : (null, null);
        var directory = FlagOrEnvironment(inputs, "chdir")
            ?? (FlagOrEnvironment(inputs, "app") is { } app && Workers.AppSpec.PathDirectory(app, inputs.WorkingDirectory) is { } appDirectory
                ? Path.GetRelativePath(inputs.WorkingDirectory, appDirectory) : null);
        var name = given ?? (directory is null or "." ? FileName : Path.Combine(directory, FileName));
        var path = Path.GetFullPath(name, inputs.WorkingDirectory);
        if (!File.Exists(path))
        {
            if (given is not null)
            {
                errors.Add(new ConfigError($"{how} '{given}': no such file"));
            }

            return null;
        }

        string text;
        try
        {
            text = BoundedFile.ReadAllText(path, MaxConfigBytes);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            errors.Add(new ConfigError($"cannot read {name}: {e.Message}"));
            return null;
        }

        return ConfigFile.Parse(text, name, Path.GetDirectoryName(path)!, errors);
    }
}

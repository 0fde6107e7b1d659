namespace Tapster.Configuration;

/// <summary>A .env file named by the config's <c>env_files</c>, read with <see cref="DotEnv"/>; errors carry file and line.</summary>
internal static class DotEnvFile
{
    /// <summary>Far above any real .env file; keeps /dev/zero or a runaway file from exhausting memory.</summary>
    public const int MaxBytes = 4 * 1024 * 1024;

    public static List<(string Name, string Value, SourceLocation Location)> Read(string path, string name, List<ConfigError> errors)
    {
        string text;
        try
        {
            text = BoundedFile.ReadAllText(path, MaxBytes);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            errors.Add(new ConfigError($"cannot read {name}: {e.Message}"));
            return [];
        }

        var (values, problems) = DotEnv.Parse(text);
        errors.AddRange(problems.Select(p => new ConfigError(p.Message, new SourceLocation(name, p.Line, 1))));
        return values.Select(v => (v.Name, v.Value, new SourceLocation(name, v.Line, 1))).ToList();
    }
}

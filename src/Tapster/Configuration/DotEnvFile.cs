namespace Tapster.Configuration;

/// <summary>A .env file named by the config's <c>env_files</c>, read with <see cref="DotEnv"/>; errors carry file and line.</summary>
internal static class DotEnvFile
{
    public static List<(string Name, string Value, SourceLocation Location)> Read(string path, string name, List<ConfigError> errors)
    {
        var (values, problems) = DotEnv.Parse(File.ReadAllText(path));
        errors.AddRange(problems.Select(p => new ConfigError(p.Message, new SourceLocation(name, p.Line, 1))));
        return values.Select(v => (v.Name, v.Value, new SourceLocation(name, v.Line, 1))).ToList();
    }
}

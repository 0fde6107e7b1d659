using Tapster.Configuration;

namespace Tapster.Tests.Unit.Configuration;

/// <summary>A temporary directory holding a tapster.toml (and any other files), loaded with a chosen environment.</summary>
internal sealed class TempConfig : IDisposable
{
    public TempConfig(string toml = "")
    {
        Directory = System.IO.Directory.CreateTempSubdirectory("tapster-config-").FullName;
        Write("tapster.toml", toml);
    }

    public string Directory { get; }

    public string Write(string name, string text)
    {
        var path = Path.Combine(Directory, name);
        File.WriteAllText(path, text);
        return path;
    }

    public ConfigResult Load(Dictionary<string, string>? environment = null, Dictionary<string, string>? flags = null) =>
        ConfigLoader.Load(new ConfigInputs
        {
            Environment = environment ?? [],
            Flags = flags ?? [],
            WorkingDirectory = Directory,
        });

    public ServeSettings LoadValid(Dictionary<string, string>? environment = null, Dictionary<string, string>? flags = null)
    {
        var result = Load(environment, flags);
        Assert.True(result.Errors.Count == 0, string.Join('\n', result.Errors));
        return result.Settings;
    }

    public void Dispose() => System.IO.Directory.Delete(Directory, recursive: true);
}

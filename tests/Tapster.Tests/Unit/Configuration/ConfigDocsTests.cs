using Tapster.Configuration;

namespace Tapster.Tests.Unit.Configuration;

public sealed class ConfigDocsTests
{
    [Fact]
    public void Generate_MatchesTheCommittedReference()
    {
        var committed = File.ReadAllText(TestPaths.Of("docs", "config.md"));
        Assert.True(committed == ConfigDocs.Generate(),
            "docs/config.md differs from what the schema generates; regenerate it: ./tapster config docs > docs/config.md");
    }

    [Fact]
    public void Example_LoadsWithoutErrors()
    {
        using var config = new TempConfig(ConfigDocs.Example);
        config.Write(".env.production", "FLASK_ENV=production\n");
        Assert.Empty(config.Load().Errors);
    }

    [Fact]
    public void Schema_EveryFlagAndKey_IsUnique()
    {
        Assert.Equal(SettingsSchema.All.Count, SettingsSchema.All.Select(s => s.Key).Distinct().Count());
        var flags = SettingsSchema.All.Where(s => s.Flag is not null).ToList();
        Assert.Equal(flags.Count, flags.Select(s => s.Flag).Distinct().Count());
    }
}

using Tapster.Edge.Static;
using Tapster.Tests.Unit.Configuration;

namespace Tapster.Tests.Unit.Edge.StaticServing;

public sealed class StaticConfigTests
{
    [Fact]
    public void Load_StaticTable_MountsDirectoriesRelativeToTheFile()
    {
        using var config = new TempConfig("""
            static_cache_control = "no-cache"

            [static]
            "/static" = "app/static"
            "/v1.2" = { dir = "media", cache_control = "public, max-age=60", dotfiles = true }
            """);
        Directory.CreateDirectory(Path.Combine(config.Directory, "app", "static"));
        Directory.CreateDirectory(Path.Combine(config.Directory, "media"));
        var settings = config.LoadValid();
        Assert.Equal(
            [
                new StaticMount("/static", Path.Combine(config.Directory, "app", "static")),
                new StaticMount("/v1.2", Path.Combine(config.Directory, "media"), "public, max-age=60", true),
            ],
            settings.StaticMounts);
        Assert.Equal("no-cache", settings.StaticCacheControl);
        Assert.False(settings.StaticDotfiles);
    }

    [Fact]
    public void Load_StaticAsInlineTable_IsTheSameAsTheTable()
    {
        using var config = new TempConfig("""static = { "/assets" = "." }""");
        Assert.Equal([new StaticMount("/assets", config.Directory)], config.LoadValid().StaticMounts);
    }

    [Fact]
    public void Load_StaticFlag_WinsOverTheFile()
    {
        using var config = new TempConfig("[static]\n\"/static\" = \".\"\n");
        var settings = config.LoadValid(flags: new() { ["static"] = $"/media={config.Directory}" });
        Assert.Equal([new StaticMount("/media", config.Directory)], settings.StaticMounts);
    }

    [Fact]
    public void Load_TapsterStaticVariable_IsCommaSeparated()
    {
        using var config = new TempConfig();
        var settings = config.LoadValid(environment: new() { ["TAPSTER_STATIC"] = $"/a={config.Directory}, /b={config.Directory}" });
        Assert.Equal(["/a", "/b"], settings.StaticMounts.Select(m => m.Prefix));
    }

    [Theory]
    [InlineData("\"/static\" = \"missing\"", "tapster.toml:2:13: static.\"/static\" directory 'missing' does not exist")]
    [InlineData("\"static\" = \".\"", "tapster.toml:2:12: static.\"static\" prefix 'static' must start with '/'")]
    [InlineData("\"/static/\" = \".\"", "tapster.toml:2:14: static.\"/static/\" prefix '/static/' must start with '/'")]
    [InlineData("\"/a/../b\" = \".\"", "static.\"/a/../b\" prefix")]
    [InlineData("\"/static\" = 3", "static.\"/static\" must be a directory")]
    [InlineData("\"/static\" = { dir = \".\", colour = \"red\" }", "unknown option 'colour'")]
    [InlineData("\"/static\" = { cache_control = \"x\" }", "needs dir = ")]
    [InlineData("\"/static\" = { dir = \".\", dotfiles = \"yes\" }", "dotfiles must be true or false")]
    [InlineData("\"/static\" = { dir = \".\", cache_control = \"a\\nb\" }", "cache_control")]
    public void Load_BadStaticEntry_IsAnErrorWithItsLocation(string entry, string expected)
    {
        using var config = new TempConfig("[static]\n" + entry + "\n");
        var errors = config.Load().Errors.Select(e => e.ToString()).ToList();
        Assert.Contains(errors, e => e.Contains(expected, StringComparison.Ordinal));
    }

    [Fact]
    public void Load_BadStaticFlag_NamesTheFlag()
    {
        using var config = new TempConfig();
        var errors = config.Load(flags: new() { ["static"] = "/static=/no/such/dir" }).Errors.Select(e => e.ToString()).ToList();
        Assert.Contains(errors, e => e.StartsWith("--static '/static=/no/such/dir': directory '/no/such/dir' does not exist", StringComparison.Ordinal));
    }

    [Fact]
    public void Load_StaticAsAString_SaysToWriteATable()
    {
        using var config = new TempConfig("static = \"app/static\"\n");
        Assert.Contains(config.Load().Errors, e => e.Message.Contains("write [static]", StringComparison.Ordinal));
    }

    [Fact]
    public void Load_SamePrefixTwiceOnTheFlag_IsAnError()
    {
        using var config = new TempConfig();
        Assert.NotEmpty(config.Load(flags: new() { ["static"] = $"/a={config.Directory},/a={config.Directory}" }).Errors);
    }
}

using Tapster.Configuration;
using Tapster.Edge.Static;

namespace Tapster.Tests.Unit.Edge.StaticServing;

public sealed class StaticSiteTests : IDisposable
{
    readonly string root = Directory.CreateTempSubdirectory("tapster-static-").FullName;
    readonly string outside = Directory.CreateTempSubdirectory("tapster-outside-").FullName;

    public StaticSiteTests()
    {
        File.WriteAllText(Path.Combine(root, "app.css"), "body{}");
        File.WriteAllText(Path.Combine(root, ".env"), "SECRET=1");
        Directory.CreateDirectory(Path.Combine(root, "sub"));
        File.WriteAllText(Path.Combine(outside, "secret.txt"), "secret");
        File.CreateSymbolicLink(Path.Combine(root, "escape.txt"), Path.Combine(outside, "secret.txt"));
        Directory.CreateSymbolicLink(Path.Combine(root, "escape-dir"), outside);
        File.CreateSymbolicLink(Path.Combine(root, "inside.css"), Path.Combine(root, "app.css"));
        File.CreateSymbolicLink(Path.Combine(root, "public.txt"), Path.Combine(root, ".env"));
    }

    public void Dispose()
    {
        Directory.Delete(root, recursive: true);
        Directory.Delete(outside, recursive: true);
    }

    StaticSite Open(bool dotfiles = false)
    {
        var settings = SettingsSchema.Defaults with { StaticMounts = [new StaticMount("/static", root)], StaticDotfiles = dotfiles };
        var sites = StaticSite.OpenAll(settings, out var error);
        Assert.Null(error);
        return Assert.Single(sites);
    }

    [Theory]
    [InlineData("/app.css", "File")]
    [InlineData("/inside.css", "File")]
    [InlineData("/sub", "Directory")]
    [InlineData("", "Directory")]
    [InlineData("/nope.css", "Missing")]
    [InlineData("/escape.txt", "Outside")]
    [InlineData("/escape-dir/secret.txt", "Outside")]
    [InlineData("/.env", "Hidden")]
    [InlineData("/public.txt", "Hidden")]
    [InlineData("/../etc/passwd", "DotSegment")]
    [InlineData("/sub/./app.css", "DotSegment")]
    [InlineData("/a\\..\\b", "Malformed")]
    [InlineData("/a\0b", "Malformed")]
    public void Resolve_KeepsEveryPathInsideTheRoot(string relative, string expected) =>
        Assert.Equal(Enum.Parse<Lookup>(expected), Open().Resolve(relative, out _));

    [Fact]
    public void Resolve_WithDotfiles_ServesThem() =>
        Assert.Equal(Lookup.File, Open(dotfiles: true).Resolve("/.env", out _));

    [Theory]
    [InlineData("/static", true)]
    [InlineData("/static/app.css", true)]
    [InlineData("/staticfoo", false)]
    [InlineData("/stati", false)]
    [InlineData("/", false)]
    public void Covers_MatchesThePrefixOnlyAtASegmentBoundary(string path, bool expected) =>
        Assert.Equal(expected, Open().Covers(path));

    [Fact]
    public void OpenAll_VanishedDirectory_IsAStartUpError()
    {
        var settings = SettingsSchema.Defaults with { StaticMounts = [new StaticMount("/static", Path.Combine(root, "gone"))] };
        StaticSite.OpenAll(settings, out var error);
        Assert.Contains("/static", error, StringComparison.Ordinal);
    }

    [Fact]
    public void OpenAll_TheRootOfTheFileSystem_IsAStartUpError()
    {
        var settings = SettingsSchema.Defaults with { StaticMounts = [new StaticMount("/s", "/")] };
        Assert.Empty(StaticSite.OpenAll(settings, out var error));
        Assert.Contains("is the root of the file system", error, StringComparison.Ordinal);
    }
}

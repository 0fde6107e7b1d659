using Tapster.Workers;

namespace Tapster.Tests.Unit.Workers;

public sealed class AppSpecTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("appspec-");

    [Theory]
    [InlineData("hello:app", "hello", "app")]
    [InlineData("pkg.wsgi:application", "pkg.wsgi", "application")]
    [InlineData("factory:create_app()", "factory", "create_app()")]
    [InlineData("factory:create_app('prod', debug=False)", "factory", "create_app('prod', debug=False)")]
    [InlineData("hello", "hello", "")]
    public void Parse_ModuleAndCallable_SplitsThem(string spec, string module, string callable)
    {
        var app = AppSpec.Parse(spec, _dir.FullName);

        Assert.Equal((_dir.FullName, module, callable), (app.Directory, app.Module, app.Callable));
    }

    [Fact]
    public void Parse_PyFile_UsesItsDirectoryAndStem()
    {
        var sub = _dir.CreateSubdirectory("site");
        File.WriteAllText(Path.Combine(sub.FullName, "server.py"), "");

        var app = AppSpec.Parse("site/server.py", _dir.FullName);

        Assert.Equal((sub.FullName, "server", ""), (app.Directory, app.Module, app.Callable));
    }

    [Theory]
    [InlineData("mysite/wsgi.py")]
    [InlineData("mysite")]
    public void Parse_AFileOrDirectoryInsideAPackage_ImportsItFromThePackagesParent(string spec)
    {
        var package = _dir.CreateSubdirectory("mysite");
        File.WriteAllText(Path.Combine(package.FullName, "__init__.py"), "");
        File.WriteAllText(Path.Combine(package.FullName, "wsgi.py"), "");

        var app = AppSpec.Parse(spec, _dir.FullName);

        Assert.Equal((_dir.FullName, "mysite.wsgi"), (app.Directory, app.Module));
    }

    [Fact]
    public void Parse_Directory_PrefersWsgiPyOverAppPy()
    {
        File.WriteAllText(Path.Combine(_dir.FullName, "app.py"), "");
        File.WriteAllText(Path.Combine(_dir.FullName, "wsgi.py"), "");

        Assert.Equal("wsgi", AppSpec.Parse(_dir.FullName, "/").Module);
    }

    [Fact]
    public void Parse_DirectoryWithoutEntryPoint_NamesTheProblem()
    {
        var error = Assert.Throws<AppSpecException>(() => AppSpec.Parse(_dir.FullName, "/"));

        Assert.Contains("no wsgi.py or app.py", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("site.settings", "site.wsgi")]
    [InlineData("config.settings.production", "config.wsgi")]
    [InlineData("config.settings.production", "config.settings.wsgi")]
    public void Parse_DjangoProjectRoot_ServesTheWsgiPyNearestItsSettings(string settings, string expected)
    {
        File.WriteAllText(Path.Combine(_dir.FullName, "manage.py"), $"import os\nos.environ.setdefault(\n    'DJANGO_SETTINGS_MODULE', \"{settings}\")\n");
        var package = Path.Combine([_dir.FullName, .. expected.Split('.')[..^1]]);
        Directory.CreateDirectory(package);
        File.WriteAllText(Path.Combine(package, "wsgi.py"), "");

        var app = AppSpec.Parse(_dir.FullName, "/");

        Assert.Equal((_dir.FullName, expected, "application"), (app.Directory, app.Module, app.Callable));
    }

    [Fact]
    public void Parse_DjangoManagePyWithoutAWsgiPy_NamesTheProblem()
    {
        File.WriteAllText(Path.Combine(_dir.FullName, "manage.py"), "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'site.settings')\n");

        var error = Assert.Throws<AppSpecException>(() => AppSpec.Parse(_dir.FullName, "/"));

        Assert.Contains("no Django manage.py naming a settings module with a wsgi.py beside it", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("my-app:app")]
    [InlineData("hello:app(1")]
    [InlineData("hello:")]
    [InlineData("missing.py")]
    [InlineData("1abc:app")]
    public void Parse_Invalid_ThrowsWithOneLineMessage(string spec)
    {
        var error = Assert.Throws<AppSpecException>(() => AppSpec.Parse(spec, _dir.FullName));

        Assert.DoesNotContain('\n', error.Message);
    }

    public void Dispose() => _dir.Delete(recursive: true);
}

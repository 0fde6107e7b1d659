using Tapster.Configuration;
using Tapster.Workers;

namespace Tapster.Tests.Unit.Workers;

public sealed class AppTargetTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("apptarget-");

    [Theory]
    [InlineData("shop")]
    [InlineData("shop/wsgi.py")]
    public void A_path_app_makes_its_directory_the_working_directory_where_its_secrets_are_looked_for(string app)
    {
        var shop = _dir.CreateSubdirectory("shop");
        File.WriteAllText(Path.Combine(shop.FullName, "wsgi.py"), "app = None\n");

        var target = AppTarget.Resolve(SettingsSchema.Defaults with { App = Path.Combine(_dir.FullName, app), Python = "/usr/bin/python3" });

        Assert.Equal((shop.FullName, shop.FullName), (target.WorkingDirectory, target.App.Directory));
    }

    [Fact]
    public void Chdir_stays_the_working_directory_whatever_the_app()
    {
        var shop = _dir.CreateSubdirectory("shop");
        var site = _dir.CreateSubdirectory("site");
        File.WriteAllText(Path.Combine(shop.FullName, "wsgi.py"), "app = None\n");

        var target = AppTarget.Resolve(SettingsSchema.Defaults with { App = "../shop", Chdir = site.FullName, Python = "/usr/bin/python3" });

        Assert.Equal((site.FullName, shop.FullName), (target.WorkingDirectory, target.App.Directory));
    }

    public void Dispose() => _dir.Delete(recursive: true);
}

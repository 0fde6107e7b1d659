using System.Text.RegularExpressions;

namespace Tapster.Workers;

/// <summary>
/// Where the WSGI callable lives: a directory for sys.path[0], a module, and a callable expression
/// (<c>app</c>, <c>create_app()</c>, or empty to let the bridge try app, application, create_app()).
/// </summary>
internal sealed partial record AppSpec(string Directory, string Module, string Callable)
{
    /// <summary>Files looked for, in order, when APP is a directory (Gunicorn and Flask conventions).</summary>
    private static readonly string[] DirectoryEntryPoints = ["wsgi.py", "app.py"];

    public override string ToString() => Callable.Length == 0 ? Module : $"{Module}:{Callable}";

    /// <summary>
    /// The directory a path APP names: the directory itself, or the one holding the <c>.py</c> file;
    /// null for <c>module:callable</c> or a path that does not exist. Without <c>--chdir</c> it is the
    /// project's directory, where <c>tapster.toml</c> and <c>.tapster/</c> are looked for: <c>tapster
    /// serve /srv/shop</c> from anywhere (a systemd unit without WorkingDirectory=) reads the shop's own
    /// settings and secrets, not those of wherever it was started.
    /// </summary>
    public static string? PathDirectory(string app, string baseDirectory)
    {
        if (string.IsNullOrWhiteSpace(app))
        {
            return null;
        }

        var asPath = Path.GetFullPath(app, baseDirectory);
        return System.IO.Directory.Exists(asPath) ? asPath
            : app.EndsWith(".py", StringComparison.Ordinal) && File.Exists(asPath) ? Path.GetDirectoryName(asPath)
            : null;
    }

    /// <summary>Resolves the APP argument against <paramref name="baseDirectory"/>.</summary>
    /// <exception cref="AppSpecException">APP names nothing that can be served; the message says why.</exception>
    public static AppSpec Parse(string app, string baseDirectory)
    {
        if (string.IsNullOrWhiteSpace(app))
        {
            app = ".";
        }

        var asPath = Path.GetFullPath(app, baseDirectory);
        if (System.IO.Directory.Exists(asPath))
        {
            foreach (var entry in DirectoryEntryPoints)
            {
                if (File.Exists(Path.Combine(asPath, entry)))
                {
                    return InPackage(asPath, Path.GetFileNameWithoutExtension(entry));
                }
            }

            return DjangoProject(asPath)
                ?? throw new AppSpecException($"directory '{asPath}' has no wsgi.py or app.py to serve, and no Django manage.py naming a settings module with a wsgi.py beside it");
        }

        if (app.EndsWith(".py", StringComparison.Ordinal))
        {
            if (!File.Exists(asPath))
            {
                throw new AppSpecException($"file '{asPath}' does not exist");
            }

            var module = Path.GetFileNameWithoutExtension(asPath);
            if (!ModulePattern().IsMatch(module))
            {
                throw new AppSpecException($"'{Path.GetFileName(asPath)}' is not importable: '{module}' is not a Python module name");
            }

            return InPackage(Path.GetDirectoryName(asPath)!, module);
        }

        var colon = app.IndexOf(':', StringComparison.Ordinal);
        var moduleName = colon < 0 ? app : app[..colon];
        var callable = colon < 0 ? "" : app[(colon + 1)..];
        if (!ModulePattern().IsMatch(moduleName))
        {
            throw new AppSpecException($"'{app}' is not module:callable, a .py file or a directory ('{moduleName}' is not a module name)");
        }

        if (colon >= 0 && !CallablePattern().IsMatch(callable))
        {
            throw new AppSpecException($"'{callable}' in '{app}' is not a callable name: use 'name', 'factory()' or 'factory(\"literal\", key=1)'");
        }

        return new AppSpec(baseDirectory, moduleName, callable);
    }

    /// <summary>
    /// A module file inside a package (<c>mysite/wsgi.py</c> beside <c>mysite/__init__.py</c>) is
    /// imported as <c>mysite.wsgi</c> from the package's parent, as Gunicorn's <c>mysite.wsgi</c> is:
    /// imported as a top-level <c>wsgi</c>, its own <c>import mysite.settings</c> would find no <c>mysite</c>.
    /// </summary>
    private static AppSpec InPackage(string directory, string module)
    {
        while (File.Exists(Path.Combine(directory, "__init__.py")) && Path.GetDirectoryName(directory) is { } parent
            && ModulePattern().IsMatch(Path.GetFileName(directory)))
        {
            module = $"{Path.GetFileName(directory)}.{module}";
            directory = parent;
        }

        return new AppSpec(directory, module, "");
    }

    /// <summary>
    /// A Django project root: manage.py names the settings module (<c>site.settings</c>, or
    /// <c>config.settings.production</c>), and the WSGI entry point is the <c>wsgi.py</c> in the
    /// nearest package above it, where <c>startproject</c> wrote it. So <c>tapster serve</c> in that
    /// directory serves <c>site.wsgi:application</c>, the app <c>manage.py runserver</c> serves.
    /// </summary>
    private static AppSpec? DjangoProject(string directory)
    {
        string text;
        try
        {
            text = File.ReadAllText(Path.Combine(directory, "manage.py"));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }

        var match = DjangoSettingsPattern().Match(text);
        if (!match.Success)
        {
            return null;
        }

        var parts = match.Groups["module"].Value.Split('.');
        for (var n = parts.Length - 1; n >= 1; n--)
        {
            if (File.Exists(Path.Combine([directory, .. parts[..n], "wsgi.py"])))
            {
                return new AppSpec(directory, string.Join('.', parts[..n]) + ".wsgi", "application");
            }
        }

        return null;
    }

    [GeneratedRegex(@"[""']DJANGO_SETTINGS_MODULE[""']\s*,\s*[""'](?<module>[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+)[""']")]
    private static partial Regex DjangoSettingsPattern();

    [GeneratedRegex(@"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")]
    private static partial Regex ModulePattern();

    /// <summary>A name, or a call of one (<c>create_app('prod', debug=False)</c>): the bridge checks the arguments are literals.</summary>
    [GeneratedRegex(@"^[A-Za-z_][A-Za-z0-9_]*(\(.*\))?$")]
    private static partial Regex CallablePattern();
}

/// <summary>The APP argument names nothing servable; the message is the one line the user sees.</summary>
internal sealed class AppSpecException : Exception
{
    public AppSpecException(string message)
        : base(message)
    {
    }

    public AppSpecException()
    {
    }

    public AppSpecException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

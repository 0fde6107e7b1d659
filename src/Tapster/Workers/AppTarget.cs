using Tapster.Configuration;

namespace Tapster.Workers;

/// <summary>What <c>serve</c> and <c>check</c> both start from: the app named by the settings and the interpreters to try.</summary>
internal sealed record AppTarget(string WorkingDirectory, AppSpec App, IReadOnlyList<string> Pythons)
{
    /// <exception cref="AppSpecException">The working directory, APP or interpreter is wrong; the message says which.</exception>
    public static AppTarget Resolve(ServeSettings settings)
    {
        var baseDirectory = settings.Chdir is null ? Environment.CurrentDirectory : Path.GetFullPath(settings.Chdir);
        if (!Directory.Exists(baseDirectory))
        {
            throw new AppSpecException($"chdir '{settings.Chdir}' is not a directory");
        }

        var app = AppSpec.Parse(settings.App, baseDirectory);
        var workingDirectory = settings.Chdir is null ? AppSpec.PathDirectory(settings.App, baseDirectory) ?? baseDirectory : baseDirectory;
        return new AppTarget(workingDirectory, app, PythonLocator.Candidates(settings.Python, app.Directory, workingDirectory));
    }
}

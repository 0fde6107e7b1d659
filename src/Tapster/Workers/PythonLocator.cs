namespace Tapster.Workers;

/// <summary>
/// Finds the interpreters that may run an app, best first: an explicit --python alone; otherwise the
/// app's own virtualenv (.venv, venv), an activated one ($VIRTUAL_ENV), python3 on PATH, and the
/// system's /usr/bin/python3 (Debian's python3-* packages live there even when PATH points elsewhere).
/// </summary>
internal static class PythonLocator
{
    private const string SystemPython = "/usr/bin/python3";

    public static IReadOnlyList<string> Candidates(string? explicitPython, string appDirectory, string workingDirectory)
    {
        if (explicitPython is not null)
        {
            var resolved = Resolve(explicitPython, workingDirectory)
                ?? throw new AppSpecException($"--python '{explicitPython}' is not an executable file");
            return [resolved];
        }

        var candidates = new List<string>();
        foreach (var directory in new[] { appDirectory, workingDirectory }.Distinct())
        {
            AddIfExecutable(candidates, Path.Combine(directory, ".venv", "bin", "python"));
            AddIfExecutable(candidates, Path.Combine(directory, "venv", "bin", "python"));
        }

        if (Environment.GetEnvironmentVariable("VIRTUAL_ENV") is { Length: > 0 } virtualEnv)
        {
            AddIfExecutable(candidates, Path.Combine(virtualEnv, "bin", "python"));
        }

        if (FindOnPath("python3") is { } onPath)
        {
            AddIfExecutable(candidates, onPath);
        }

        AddIfExecutable(candidates, SystemPython);
        if (candidates.Count == 0)
        {
            throw new AppSpecException("no Python found: no venv beside the app, no python3 on PATH, no /usr/bin/python3 (install python3 or pass --python)");
        }

        return candidates;
    }

    private static string? Resolve(string python, string workingDirectory)
    {
        if (python.Contains('/', StringComparison.Ordinal))
        {
            var full = Path.GetFullPath(python, workingDirectory);
            return IsExecutable(full) ? full : null;
        }

        return FindOnPath(python);
    }

    private static string? FindOnPath(string name)
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? "";
        foreach (var directory in path.Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(directory, name);
            if (IsExecutable(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    private static void AddIfExecutable(List<string> candidates, string path)
    {
        // Two names for one interpreter (a symlinked venv, a shim) would only repeat the same failure.
        if (IsExecutable(path) && !candidates.Any(c => SameFile(c, path)))
        {
            candidates.Add(path);
        }
    }

    private static bool SameFile(string a, string b)
    {
        static string Real(string p) => new FileInfo(p).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? Path.GetFullPath(p);
        return a == b || Real(a) == Real(b);
    }

    private static bool IsExecutable(string path) =>
        File.Exists(path) && (File.GetUnixFileMode(path) & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) != 0;
}

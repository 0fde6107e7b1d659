using System.ComponentModel;
using System.Diagnostics;

namespace Tapster.Audit;

/// <summary>
/// The files git tracks under a directory (the project's: a monorepo's other projects, its tests and
/// fixtures are not this app's business), named from the repository's root, or why they cannot be
/// listed (<see cref="Problem"/>: not a repository, git not installed).
/// </summary>
internal sealed record TrackedFiles(string Root, IReadOnlyList<string> Files, string? Problem)
{
    public static async Task<TrackedFiles> ListAsync(string directory)
    {
        var (code, root, error) = await GitAsync(directory, "rev-parse", "--show-toplevel").ConfigureAwait(false);
        if (code != 0)
        {
            return new TrackedFiles(directory, [], error);
        }

        root = root.TrimEnd('\n');
        // -z: names exactly as stored, whatever characters they hold (no quoting, no escaping). Run in
        // the directory, git lists what is under it; --full-name names it from the root all the same.
        (code, var list, error) = await GitAsync(directory, "ls-files", "-z", "--full-name").ConfigureAwait(false);
        return code != 0
            ? new TrackedFiles(root, [], error)
            : new TrackedFiles(root, list.Split('\0', StringSplitOptions.RemoveEmptyEntries), null);
    }

    private static async Task<(int ExitCode, string Output, string Error)> GitAsync(string directory, params string[] arguments)
    {
        var start = new ProcessStartInfo("git")
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = new Process { StartInfo = start };
        try
        {
            process.Start();
        }
        catch (Win32Exception)
        {
            return (-1, "", "git is not installed");
        }

        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().ConfigureAwait(false);
        var firstError = (await error.ConfigureAwait(false)).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault() ?? "";
        return (process.ExitCode, await output.ConfigureAwait(false), firstError.Replace("fatal: ", "", StringComparison.Ordinal));
    }
}

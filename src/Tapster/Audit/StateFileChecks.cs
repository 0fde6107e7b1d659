using Tapster.Secrets;

namespace Tapster.Audit;

/// <summary>Tapster's state directory, secrets file and master key must be private to their owner.</summary>
internal static class StateFileChecks
{
    private const UnixFileMode GroupOrOthers =
        UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.OtherRead | UnixFileMode.OtherWrite;

    public static CheckResult Evaluate(string workingDirectory, SecretsLocation location)
    {
        const string Id = "state-files", Title = "Secrets and state files";
        var paths = new[] { Path.Combine(workingDirectory, SecretsLocation.DefaultDirectory), location.SecretsFile, location.KeyFile }
            .Where(p => File.Exists(p) || Directory.Exists(p))
            .Distinct(StringComparer.Ordinal)
            .ToList();
        if (paths.Count == 0)
        {
            return CheckResult.Skip(Id, Title, $"no {SecretsLocation.DefaultDirectory}/ directory, secrets file or key file");
        }

        var open = paths.Select(p => (Path: p, Mode: File.GetUnixFileMode(p))).Where(p => (p.Mode & GroupOrOthers) != 0).ToList();
        if (open.Count == 0)
        {
            return CheckResult.Pass(Id, Title, $"{string.Join(", ", paths.Select(p => Path.GetRelativePath(workingDirectory, p)))}: owner only");
        }

        var fix = string.Join(" && ", open.Select(p => $"chmod {(Directory.Exists(p.Path) ? "700" : "600")} {Path.GetRelativePath(workingDirectory, p.Path)}"));
        return new CheckResult(Id, CheckStatus.Fail, Title,
            string.Join(", ", open.Select(p => $"{Path.GetRelativePath(workingDirectory, p.Path)} (mode {MasterKeyLocator.Octal(p.Mode)})")) + " can be read or written by group or others",
            fix);
    }
}

namespace Tapster.Audit;

/// <summary>Secrets committed to the app's git repository: tracked .env files, keys and tokens in tracked files.</summary>
internal static class RepositoryChecks
{
    /// <summary>A report names this many places; the rest are counted.</summary>
    private const int MaxListed = 10;

    private const string RotateFix = "rotate what was exposed (it stays in git history), then";

    public static IEnumerable<CheckResult> Evaluate(TrackedFiles tracked)
    {
        if (tracked.Problem is { } problem)
        {
            var why = $"cannot list tracked files in {tracked.Root}: {problem}";
            yield return CheckResult.Skip("env-file-tracked", "Tracked .env files", why);
            yield return CheckResult.Skip("committed-secrets", "Secrets in tracked files", why);
            yield break;
        }

        var dotEnv = tracked.Files.Where(SecretScanner.IsDotEnv).ToList();
        yield return dotEnv.Count == 0
            ? CheckResult.Pass("env-file-tracked", "Tracked .env files", "no .env file is tracked")
            : new CheckResult("env-file-tracked", CheckStatus.Fail, "Tracked .env files", $"git tracks {List(dotEnv)}",
                $"{RotateFix} `git rm --cached {string.Join(' ', dotEnv)}` and add it to .gitignore");

        var findings = tracked.Files.Where(f => !SecretScanner.IsDotEnv(f)).SelectMany(f => SecretScanner.ScanFile(tracked.Root, f)).ToList();
        if (findings.Count == 0)
        {
            yield return CheckResult.Pass("committed-secrets", "Secrets in tracked files", $"none found in {tracked.Files.Count} tracked files");
            yield break;
        }

        var certain = findings.Any(f => f.Certain);
        yield return new CheckResult("committed-secrets", certain ? CheckStatus.Fail : CheckStatus.Warn, "Secrets in tracked files",
            (certain ? "" : "possible secrets (random-looking strings): ") + List(findings.Select(f => f.ToString()).ToList()),
            $"{RotateFix} remove them from the code and read them from the environment or `tapster secrets`");
    }

    private static string List(List<string> items) =>
        string.Join(", ", items.Take(MaxListed)) + (items.Count > MaxListed ? $" and {items.Count - MaxListed} more" : "");
}

using System.Text;
using System.Text.RegularExpressions;

namespace Tapster.Audit;

/// <summary>
/// Finds credentials in the files git tracks: private keys, well-known token formats, secrets assigned
/// to secret-sounding names, and long random-looking strings. Reports where, never what.
/// </summary>
internal static partial class SecretScanner
{
    /// <summary>Larger files are data or build output, not where someone pastes a key.</summary>
    public const long MaxFileSize = 1024 * 1024;

    /// <summary>How far into a file a NUL byte marks it as binary (git's own heuristic looks at 8000 bytes).</summary>
    private const int BinarySniffLength = 8000;

    /// <summary>Lock files are full of integrity hashes that look exactly like tokens.</summary>
    private static readonly string[] LockFiles = ["package-lock.json", "yarn.lock", "pnpm-lock.yaml", "poetry.lock", "Pipfile.lock", "uv.lock", "Cargo.lock", "go.sum", "composer.lock"];

    /// <summary>Committed on purpose: they show which variables exist, without values.</summary>
    private static readonly string[] DotEnvTemplates = ["example", "sample", "template", "dist", "defaults"];

    /// <summary>Most specific first: a line is reported once, under the first rule that matches.</summary>
    private static readonly SecretRule[] Rules =
    [
        Known("private key", PrivateKey()),
        Known("AWS access key id", AwsKey()),
        Known("GitHub token", GitHubToken()),
        Known("Slack token", SlackToken()),
        Known("Stripe live key", StripeKey()),
        Known("Google API key", GoogleKey()),
        new("secret assigned in the source", Assignment(), m => !LooksLikePlaceholder(m.Groups["value"].Value), Certain: true),
        new("high-entropy string", Quoted(), m => LooksRandom(m.Groups["value"].Value), Certain: false),
    ];

    /// <summary>A tracked .env file: <c>.env</c>, <c>.env.production</c>, <c>prod.env</c>, but not <c>.env.example</c>.</summary>
    public static bool IsDotEnv(string path)
    {
        var name = Path.GetFileName(path);
        if (name == ".env" || name.EndsWith(".env", StringComparison.Ordinal))
        {
            return true;
        }

        return name.StartsWith(".env.", StringComparison.Ordinal) && !DotEnvTemplates.Contains(name[5..], StringComparer.OrdinalIgnoreCase);
    }

    /// <summary>Scans one tracked file; binaries, symlinks, lock files and files over 1 MiB are skipped.</summary>
    public static IEnumerable<SecretFinding> ScanFile(string root, string relativePath)
    {
        var file = new FileInfo(Path.Combine(root, relativePath));
        if (!file.Exists || file.LinkTarget is not null || file.Length > MaxFileSize || LockFiles.Contains(file.Name, StringComparer.Ordinal))
        {
            return [];
        }

        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(file.FullName);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [];
        }

        return bytes.AsSpan(0, Math.Min(bytes.Length, BinarySniffLength)).Contains((byte)0)
            ? []
            : ScanText(relativePath, Encoding.UTF8.GetString(bytes));
    }

    public static IEnumerable<SecretFinding> ScanText(string relativePath, string text)
    {
        var lines = text.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            foreach (var rule in Rules)
            {
                if (rule.Pattern.Matches(lines[i]).Any(rule.Accept))
                {
                    yield return new SecretFinding(relativePath, i + 1, rule.Kind, rule.Certain);
                    break;
                }
            }
        }
    }

    private static SecretRule Known(string kind, Regex pattern) => new(kind, pattern, _ => true, Certain: true);

    /// <summary>
    /// Values that stand for a secret instead of being one: $VAR, {{ var }}, %(var)s, &lt;token&gt;, ****,
    /// paths, and names made of letters alone (TAPSTER_MASTER_KEY, "db_password", "test-only").
    /// </summary>
    private static bool LooksLikePlaceholder(string value) =>
        value[0] is '$' or '{' or '<' or '%' or '/' || value.StartsWith("./", StringComparison.Ordinal)
        || value.Distinct().Count() <= 2 || value.All(c => char.IsAsciiLetter(c) || c is '_' or '-' or '.');

    /// <summary>
    /// Upper and lower case letters and digits mixed, with at least 4 bits of Shannon entropy per character:
    /// base64 and base62 keys land there, words, identifiers and hex digests below.
    /// </summary>
    private static bool LooksRandom(string value)
    {
        if (!value.Any(char.IsAsciiLetterUpper) || !value.Any(char.IsAsciiLetterLower) || !value.Any(char.IsAsciiDigit))
        {
            return false;
        }

        var entropy = value.GroupBy(c => c).Sum(g =>
        {
            var p = (double)g.Count() / value.Length;
            return -p * Math.Log2(p);
        });
        return entropy >= 4.0;
    }

    [GeneratedRegex(@"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----")]
    private static partial Regex PrivateKey();

    [GeneratedRegex(@"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")]
    private static partial Regex AwsKey();

    [GeneratedRegex(@"\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})\b")]
    private static partial Regex GitHubToken();

    [GeneratedRegex(@"\bxox[baprs]-[A-Za-z0-9-]{10,}")]
    private static partial Regex SlackToken();

    [GeneratedRegex(@"\b[sr]k_live_[A-Za-z0-9]{16,}\b")]
    private static partial Regex StripeKey();

    [GeneratedRegex(@"\bAIza[0-9A-Za-z_\-]{35}\b")]
    private static partial Regex GoogleKey();

    /// <summary><c>password = "..."</c>, <c>SECRET_KEY: '...'</c>, <c>"api_key": "..."</c>: a quoted value of 8+ characters.</summary>
    [GeneratedRegex(@"(?i)[a-z0-9_.-]*(?:passw(?:or)?d|pwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|credentials?)[a-z0-9_.-]*[""']?\s*(?::=|=>|[:=])\s*[rbu]?[""'](?<value>[^""'\s]{8,})[""']")]
    private static partial Regex Assignment();

    [GeneratedRegex(@"[""'`](?<value>[A-Za-z0-9+/=_\-]{24,})[""'`]")]
    private static partial Regex Quoted();
}

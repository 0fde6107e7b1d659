using Tapster.Audit;

namespace Tapster.Tests.Unit.Audit;

public class SecretScannerTests
{
    static List<SecretFinding> Scan(string text) => [.. SecretScanner.ScanText("f.py", text)];

    // Fakes built from parts, so that this file does not itself look like it leaks credentials.
    public static TheoryData<string, string> KnownFormats => new()
    {
        { "-----BEGIN RSA " + "PRIVATE KEY-----", "private key" },
        { "-----BEGIN " + "PRIVATE KEY-----", "private key" },
        { "-----BEGIN OPENSSH " + "PRIVATE KEY-----", "private key" },
        { "key = " + "AKIA" + "IOSFODNN7EXAMPLE", "AWS access key id" },
        { "token: " + "ghp_" + new string('a', 36), "GitHub token" },
        { "github_pat_" + new string('B', 30), "GitHub token" },
        { "SLACK=" + "xoxb-" + "1234567890-abcdef", "Slack token" },
        { "stripe.api_key = x or " + "sk_live_" + new string('9', 24), "Stripe live key" },
        { "maps(" + "AIza" + new string('Q', 35) + ")", "Google API key" },
        { "password = \"hunter2-" + "99\"", "secret assigned in the source" },
        { "SECRET_KEY = '" + "s3cr3t-value'", "secret assigned in the source" },
        { "\"api_key\": \"" + "abc123def456\"", "secret assigned in the source" },
    };

    [Theory]
    [MemberData(nameof(KnownFormats))]
    public void ScanText_KnownFormat_ReportsFileLineAndKindOnly(string line, string kind)
    {
        var finding = Assert.Single(Scan("first line\n" + line + "\n"));
        Assert.Equal(new SecretFinding("f.py", 2, kind, Certain: true), finding);
        Assert.Equal($"f.py:2 ({kind})", finding.ToString());
    }

    [Theory]
    [InlineData("password = os.environ[\"PASSWORD\"]")]
    [InlineData("password = \"${DB_PASSWORD}\"")]
    [InlineData("secret = \"<your-secret-here>\"")]
    [InlineData("token = \"********\"")]
    [InlineData("KEY_VARIABLE = \"TAPSTER_MASTER_KEY\"")]
    [InlineData("secret_file = \"/run/secrets/app\"")]
    [InlineData("token = \"short\"")]
    [InlineData("name = \"just-some-words-here-nothing-else\"")]
    [InlineData("digest = \"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\"")]
    public void ScanText_ReferencesPlaceholdersAndDigests_AreNotSecrets(string line) => Assert.Empty(Scan(line));

    [Fact]
    public void ScanText_RandomLookingString_IsOnlyPossible()
    {
        var finding = Assert.Single(Scan("x = \"" + "q8Zr2LmX9vK4pT7wN1bY6cF3hJ5s" + "\""));
        Assert.False(finding.Certain);
        Assert.Equal("high-entropy string", finding.Kind);
    }

    [Fact]
    public void ScanText_LineWithSeveralRules_IsReportedOnceUnderTheMostSpecific() =>
        Assert.Equal("AWS access key id", Assert.Single(Scan("aws_secret = \"" + "AKIA" + "IOSFODNN7EXAMPLE\"")).Kind);

    [Theory]
    [InlineData(".env", true)]
    [InlineData("config/.env.production", true)]
    [InlineData("prod.env", true)]
    [InlineData(".env.example", false)]
    [InlineData(".env.sample", false)]
    [InlineData("environment.py", false)]
    public void IsDotEnv_TemplatesAreNot(string path, bool expected) => Assert.Equal(expected, SecretScanner.IsDotEnv(path));

    [Fact]
    public void ScanFile_SkipsBinariesAndLargeFiles()
    {
        var dir = Directory.CreateTempSubdirectory("tapster-scan-").FullName;
        try
        {
            var key = "AKIA" + "IOSFODNN7EXAMPLE";
            File.WriteAllBytes(Path.Combine(dir, "blob.bin"), [0, .. System.Text.Encoding.ASCII.GetBytes(key)]);
            File.WriteAllText(Path.Combine(dir, "big.txt"), key + new string('x', (int)SecretScanner.MaxFileSize));
            File.WriteAllText(Path.Combine(dir, "small.txt"), key);
            Assert.Empty(SecretScanner.ScanFile(dir, "blob.bin"));
            Assert.Empty(SecretScanner.ScanFile(dir, "big.txt"));
            Assert.Single(SecretScanner.ScanFile(dir, "small.txt"));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}

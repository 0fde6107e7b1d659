using Tapster.Configuration;

namespace Tapster.Tests.Unit.Configuration;

public sealed class AppEnvironmentTests
{
    [Fact]
    public void Load_EnvTable_RendersPlainValuesAsStrings()
    {
        using var config = new TempConfig("[env]\nNAME = \"shop\"\nCOUNT = 3\nRATIO = 0.5\nDEBUG = false\n");
        var env = config.LoadValid(new() { ["PATH"] = "/usr/bin" }).AppEnvironment;
        Assert.Equal("shop", env["NAME"]);
        Assert.Equal("3", env["COUNT"]);
        Assert.Equal("0.5", env["RATIO"]);
        Assert.Equal("false", env["DEBUG"]);
        Assert.Equal("/usr/bin", env["PATH"]);
    }

    [Fact]
    public void Load_EnvTableArray_IsAnErrorAtItsValue()
    {
        using var config = new TempConfig("[env]\nLIST = [1, 2]\n");
        Assert.Equal(
            "tapster.toml:2:8: env.LIST must be a string, number or boolean (the environment holds only text), got an array",
            Assert.Single(config.Load().Errors).ToString());
    }

    [Fact]
    public void Load_EnvFiles_AreReadInOrderUnderTheTableAndTheProcessEnvironment()
    {
        using var config = new TempConfig("env_files = [\"a.env\", \"b.env\"]\n[env]\nFROM_TABLE = \"table\"\n");
        config.Write("a.env", "# comment\nONLY_A=a\nSHARED=a\nFROM_TABLE=a\nFROM_PROCESS=a\n");
        config.Write("b.env", "export SHARED=\"b \\\"quoted\\\"\"\nSINGLE='x #y'\nBARE=value # comment\n");
        var env = config.LoadValid(new() { ["FROM_PROCESS"] = "process" }).AppEnvironment;
        Assert.Equal("a", env["ONLY_A"]);
        Assert.Equal("b \"quoted\"", env["SHARED"]);
        Assert.Equal("x #y", env["SINGLE"]);
        Assert.Equal("value", env["BARE"]);
        Assert.Equal("table", env["FROM_TABLE"]);
        Assert.Equal("process", env["FROM_PROCESS"]);
    }

    [Fact]
    public void Load_MalformedEnvFileLine_IsAnErrorWithItsLine()
    {
        using var config = new TempConfig("env_files = [\".env.production\"]\n");
        config.Write(".env.production", "GOOD=1\n  not a line\nBAD=\"open\n");
        var errors = config.Load().Errors.Select(e => e.ToString()).ToList();
        Assert.Equal(2, errors.Count);
        Assert.StartsWith(".env.production:2:1: expected NAME=VALUE", errors[0], StringComparison.Ordinal);
        Assert.StartsWith(".env.production:3:1: BAD: the \" quote is never closed", errors[1], StringComparison.Ordinal);
    }

    [Fact]
    public void Load_NameFile_ReplacesTheVariableWithTheFileContents()
    {
        using var config = new TempConfig("[env]\nDB_PASSWORD_FILE = \"secrets/db\"\n");
        System.IO.Directory.CreateDirectory(Path.Combine(config.Directory, "secrets"));
        config.Write("secrets/db", "hunter2\n");
        var result = config.Load();
        Assert.Empty(result.Errors);
        Assert.Equal("hunter2", result.Settings.AppEnvironment["DB_PASSWORD"]);
        Assert.False(result.Settings.AppEnvironment.ContainsKey("DB_PASSWORD_FILE"));
        var shown = Assert.Single(result.Values, v => v.Key == "env.DB_PASSWORD");
        Assert.True(shown.Secret);
        Assert.Equal(EffectiveValue.Mask, shown.ShownValue);
    }

    [Fact]
    public void Load_NameFileAndName_AreExclusive()
    {
        using var config = new TempConfig("[env]\nTOKEN = \"a\"\nTOKEN_FILE = \"t\"\n");
        config.Write("t", "b");
        Assert.Equal("tapster.toml:3:14: TOKEN_FILE: both TOKEN and TOKEN_FILE are set; keep one", Assert.Single(config.Load().Errors).ToString());
    }

    [Fact]
    public void Load_NameFileNamingNoFile_StaysAnOrdinaryVariable()
    {
        using var config = new TempConfig("[env]\nLOG_FILE = \"/nonexistent/app.log\"\n");
        Assert.Equal("/nonexistent/app.log", config.LoadValid().AppEnvironment["LOG_FILE"]);
    }

    [Fact]
    public void Load_InheritedNameFileOutsideTheSecretMounts_IsLeftAlone()
    {
        using var config = new TempConfig();
        var cert = config.Write("cert.pem", "PEM");
        var env = config.LoadValid(new() { ["SSL_CERT_FILE"] = cert }).AppEnvironment;
        Assert.Equal(cert, env["SSL_CERT_FILE"]);
        Assert.False(env.ContainsKey("SSL_CERT"));
    }

    [Theory]
    [InlineData("[env]\n\"A B\" = \"1\"\n", "is not a variable name")]
    [InlineData("[env]\n\"\" = \"1\"\n", "is not a variable name")]
    [InlineData("[env]\nGOOD = \"a\\u0000b\"\n", "env.GOOD holds a NUL character")]
    public void Load_AnEnvironmentTheProcessCannotCarry_IsAnError(string toml, string message)
    {
        using var config = new TempConfig(toml);

        Assert.Contains(message, Assert.Single(config.Load().Errors).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_AVariableLargerThanLinuxPassesToAProgram_IsAnError()
    {
        using var config = new TempConfig($"[env]\nBIG = \"{new string('x', 128 * 1024 - 4)}\"\nFITS = \"{new string('x', 128 * 1024 - 6)}\"\n");

        var error = Assert.Single(config.Load().Errors);

        Assert.Equal("tapster.toml:2:7: env.BIG takes 131073 bytes, more than the 128 KiB Linux passes for one variable; put it in a file and pass the path", error.ToString());
    }

    [Fact]
    public void Load_UnreadableNameFile_IsAnErrorNamingIt()
    {
        if (Environment.UserName == "root")
        {
            // root reads any file: make the path unreadable another way, a file larger than a secret can be.
            using var big = new TempConfig("[env]\nKEY_FILE = \"big\"\n");
            big.Write("big", new string('x', 65 * 1024));
            Assert.Contains("is larger than 64KiB", Assert.Single(big.Load().Errors).Message, StringComparison.Ordinal);
            return;
        }

        using var config = new TempConfig("[env]\nKEY_FILE = \"locked\"\n");
        var path = config.Write("locked", "k");
        File.SetUnixFileMode(path, UnixFileMode.None);
        Assert.Contains($"cannot read '{path}'", Assert.Single(config.Load().Errors).Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("API_KEY", "x", true)]
    [InlineData("github_token", "x", true)]
    [InlineData("DB_PASSWORD", "x", true)]
    [InlineData("DB_PASS", "x", true)]
    [InlineData("SMTP_PASSWD", "x", true)]
    [InlineData("SENTRY_DSN", "x", true)]
    [InlineData("GOOGLE_CREDENTIALS", "x", true)]
    [InlineData("AUTH_HEADER", "x", true)]
    [InlineData("PRIVATE_PEM", "x", true)]
    [InlineData("SECRET", "x", true)]
    [InlineData("DATABASE_URL", "postgres://shop:hunter4@db/shop", true)]
    [InlineData("DATABASE_URL", "postgres://db/shop", false)]
    [InlineData("REDIS_URL", "redis://cache:6379/0", false)]
    [InlineData("DEBUG", "1", false)]
    public void LooksSecret_MatchesSecretWordsAndUrlsWithAPassword(string name, string value, bool secret) =>
        Assert.Equal(secret, AppEnvironmentBuilder.LooksSecret(name, value));

    [Fact]
    public void Load_ShownEnvValues_MaskSecretLookingNames()
    {
        using var config = new TempConfig("[env]\nAPI_KEY = \"abc\"\nREGION = \"eu\"\n");
        var shown = config.Load().Values.Where(v => v.Key.StartsWith("env.", StringComparison.Ordinal)).ToDictionary(v => v.Key, v => v.ShownValue);
        Assert.Equal(EffectiveValue.Mask, shown["env.API_KEY"]);
        Assert.Equal("\"eu\"", shown["env.REGION"]);
    }
}

using Tapster.Configuration;

namespace Tapster.Tests.Unit.Configuration;

public sealed class ConfigLoaderTests
{
    [Fact]
    public void Load_NoFile_GivesTheDefaults()
    {
        using var config = new TempConfig();
        File.Delete(Path.Combine(config.Directory, "tapster.toml"));
        var settings = config.LoadValid();
        Assert.Equal(SettingsSchema.Defaults with { AppEnvironment = settings.AppEnvironment }, settings);
    }

    [Theory]
    [InlineData("TAPSTER_WORKER", "environment variable TAPSTER_WORKER is not one Tapster reads (did you mean TAPSTER_WORKERS?)")]
    [InlineData("TAPSTER_MASTERKEY", "environment variable TAPSTER_MASTERKEY is not one Tapster reads (did you mean TAPSTER_MASTER_KEY?)")]
    [InlineData("TAPSTER_SOMETHING_ELSE", "environment variable TAPSTER_SOMETHING_ELSE is not one Tapster reads (`tapster config docs` lists every setting and its variable)")]
    public void Load_AMisspelledVariable_IsAnErrorNamingTheNearestOne(string name, string error)
    {
        using var config = new TempConfig();

        var result = config.Load(new() { [name] = "8", ["TAPSTER_THREADS"] = "2", ["TAPSTER_CONFIG"] = "tapster.toml", ["TAPSTER_MASTER_KEY_FILE"] = "" });

        Assert.Equal(error, Assert.Single(result.Errors).ToString());
    }

    [Theory]
    [InlineData("shop", false)]
    [InlineData("shop/wsgi.py", false)]
    [InlineData("shop/wsgi.py", true)]
    public void Load_APathApp_ReadsTheTapsterTomlOfItsDirectory(string app, bool viaEnvironment)
    {
        using var config = new TempConfig("[workers]\nthreads = 3\n");
        System.IO.Directory.CreateDirectory(Path.Combine(config.Directory, "shop"));
        config.Write("shop/wsgi.py", "app = None\n");
        config.Write("shop/tapster.toml", "[workers]\nthreads = 7\n");

        var result = viaEnvironment ? config.Load(new() { ["TAPSTER_APP"] = app }) : config.Load(flags: new() { ["app"] = app });

        Assert.Empty(result.Errors);
        Assert.Equal((7, Path.Combine("shop", "tapster.toml")), (result.Settings.Threads, result.FileName));
    }

    [Theory]
    [InlineData("wsgi:app")]
    [InlineData("nowhere/app.py")]
    public void Load_AModuleAppOrAPathThatIsNotThere_ReadsTheTapsterTomlOfTheCurrentDirectory(string app)
    {
        using var config = new TempConfig("[workers]\nthreads = 3\n");
        Assert.Equal(3, config.LoadValid(flags: new() { ["app"] = app }).Threads);
    }

    [Fact]
    public void Load_Chdir_WinsOverThePathApp()
    {
        using var config = new TempConfig();
        System.IO.Directory.CreateDirectory(Path.Combine(config.Directory, "shop"));
        System.IO.Directory.CreateDirectory(Path.Combine(config.Directory, "site"));
        config.Write("shop/tapster.toml", "[workers]\nthreads = 7\n");
        config.Write("site/tapster.toml", "[workers]\nthreads = 9\n");

        Assert.Equal(9, config.LoadValid(flags: new() { ["app"] = "shop", ["chdir"] = "site" }).Threads);
    }

    [Fact]
    public void Load_EveryKeyOfTheFile_ReachesServeSettings()
    {
        using var config = new TempConfig("""
            app = "shop:create_app()"
            python = "bin/python"
            chdir = "app"

            [http]
            listen = ["0.0.0.0:80", "[::]:80"]
            script_name = "/shop"

            [workers]
            count = 3
            threads = 2
            timeout = "1m"
            graceful_timeout = 5
            max_requests = 1000
            max_requests_jitter = 50
            preload = false

            [queue]
            size = 10
            timeout = "500ms"

            [limits]
            max_body_size = "10MB"
            """);
        var s = config.LoadValid();
        Assert.Equal("shop:create_app()", s.App);
        Assert.Equal(Path.Combine(config.Directory, "bin/python"), s.Python);
        Assert.Equal(Path.Combine(config.Directory, "app"), s.Chdir);
        Assert.Equal(["0.0.0.0:80", "[::]:80"], s.Bind);
        Assert.Equal("/shop", s.ScriptName);
        Assert.Equal(3, s.Workers);
        Assert.Equal(2, s.Threads);
        Assert.Equal(TimeSpan.FromMinutes(1), s.Timeout);
        Assert.Equal(TimeSpan.FromSeconds(5), s.GracefulTimeout);
        Assert.Equal(1000, s.MaxRequests);
        Assert.Equal(50, s.MaxRequestsJitter);
        Assert.False(s.Preload);
        Assert.Equal(10, s.QueueSize);
        Assert.Equal(TimeSpan.FromMilliseconds(500), s.QueueTimeout);
        Assert.Equal(10_000_000, s.MaxBodySize);
    }

    [Fact]
    public void Load_AutoWorkers_IsTwiceTheCoresPlusOne()
    {
        using var config = new TempConfig("[workers]\ncount = \"auto\"\n");
        Assert.Equal((2 * Environment.ProcessorCount) + 1, config.LoadValid().Workers);
    }

    [Fact]
    public void Load_DottedAndInlineKeys_AreTheSameKeys()
    {
        using var config = new TempConfig("workers.threads = 7\nqueue = { size = 9 }\n");
        var s = config.LoadValid();
        Assert.Equal(7, s.Threads);
        Assert.Equal(9, s.QueueSize);
    }

    [Fact]
    public void Load_FlagBeatsEnvironmentBeatsFileBeatsDefault()
    {
        using var config = new TempConfig("[workers]\ncount = 2\nthreads = 2\nmax_requests = 2\n");
        var result = config.Load(
            new() { ["TAPSTER_WORKERS"] = "3", ["TAPSTER_THREADS"] = "3" },
            new() { ["workers.count"] = "4" });
        Assert.Empty(result.Errors);
        Assert.Equal(4, result.Settings.Workers);
        Assert.Equal(3, result.Settings.Threads);
        Assert.Equal(2, result.Settings.MaxRequests);
        Assert.Equal(1024, result.Settings.QueueSize);
        var sources = result.Values.ToDictionary(v => v.Key, v => v.Source);
        Assert.Equal("flag --workers", sources["workers.count"]);
        Assert.Equal("env TAPSTER_THREADS", sources["workers.threads"]);
        Assert.Equal("tapster.toml:4", sources["workers.max_requests"]);
        Assert.Equal("default", sources["queue.size"]);
    }

    [Fact]
    public void Load_EmptyEnvironmentVariable_CountsAsUnset()
    {
        using var config = new TempConfig("[workers]\nthreads = 2\n");
        Assert.Equal(2, config.LoadValid(new() { ["TAPSTER_THREADS"] = "" }).Threads);
    }

    [Fact]
    public void Load_FlagsKeepTheirHistoricalForms()
    {
        using var config = new TempConfig();
        var s = config.LoadValid(
            new() { ["TAPSTER_BIND"] = "0.0.0.0:80, [::]:80", ["TAPSTER_NO_PRELOAD"] = "1" },
            new() { ["limits.max_body_size"] = "1", ["workers.timeout"] = "45" });
        Assert.Equal(["0.0.0.0:80", "[::]:80"], s.Bind);
        Assert.False(s.Preload);
        Assert.Equal(1024 * 1024, s.MaxBodySize);
        Assert.Equal(TimeSpan.FromSeconds(45), s.Timeout);
    }

    [Fact]
    public void Load_ConfigFromEnvironment_IsReadAndMustExist()
    {
        using var config = new TempConfig();
        var other = config.Write("other.toml", "[workers]\nthreads = 6\n");
        Assert.Equal(6, config.LoadValid(new() { ["TAPSTER_CONFIG"] = other }).Threads);
        var missing = config.Load(new() { ["TAPSTER_CONFIG"] = "nope.toml" });
        Assert.Equal("TAPSTER_CONFIG 'nope.toml': no such file", Assert.Single(missing.Errors).ToString());
    }

    [Fact]
    public void Load_ChdirFromTheEnvironment_FindsTheFileThere()
    {
        using var config = new TempConfig();
        System.IO.Directory.CreateDirectory(Path.Combine(config.Directory, "app"));
        config.Write("app/tapster.toml", "[workers]\nthreads = 5\n");
        Assert.Equal(5, config.LoadValid(new() { ["TAPSTER_CHDIR"] = "app" }).Threads);
    }

    [Fact]
    public void Load_TomlNestedTooDeeply_IsOneErrorNotACrash()
    {
        using var config = new TempConfig("[env]\nX = " + new string('[', 70) + new string(']', 70) + "\n");
        var error = Assert.Single(config.Load().Errors);
        Assert.Contains("not valid TOML: The maximum depth of 64 has been exceeded", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_DuplicateKey_NamesTheKeyButNotItsValue()
    {
        using var config = new TempConfig("[env]\nDB_PASSWORD = \"hunter2-real\"\nDB_PASSWORD = \"hunter2-real\"\n");
        var error = Assert.Single(config.Load().Errors).ToString();
        Assert.Contains("env.DB_PASSWORD", error, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("[env]\nDB_PASSWORD = hunter2-unquoted\n")]
    [InlineData("[env]\nDB_PASSWORD = \"hunter2-open\n")]
    [InlineData("[env]\nDB_PASSWORD hunter2-spaced\n")]
    [InlineData("[env]\nA = [\"hunter2-array\" \"x\"]\n")]
    [InlineData("[env]\nA = { b = hunter2-inline }\n")]
    [InlineData("[env]\nDB_PASSWORD = \"hunter2-twice\"\nDB_PASSWORD = \"hunter2-twice\"\n")]
    [InlineData("[env]\nSECRET_KEY \"s3\\\"cret-hunter2-value\"\n")]
    [InlineData("[env]\nDB_PASSWORD \"correct\\\"horse-hunter2-staple\"\n")]
    [InlineData("[env]\nDB_PASSWORD = \"x\" \"pa`ss-hunter2-secret\"\n")]
    public void Load_MalformedTomlAroundAValue_NeverShowsTheValue(string toml)
    {
        using var config = new TempConfig(toml);
        var error = Assert.Single(config.Load().Errors).ToString();
        Assert.Contains("not valid TOML", error, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_AValueWithControlCharacters_IsQuotedEscapedOnOneLine()
    {
        using var config = new TempConfig("[proxy]\ntrusted = [\"u\\nix\\u001b[31m\"]\n");
        var error = Assert.Single(config.Load().Errors).ToString();
        Assert.Contains("'u\\x0aix\\x1b[31m' is not an IP address", error, StringComparison.Ordinal);
        Assert.False(error.AsSpan().ContainsAny('\n', '\u001b'), error);
    }

    [Theory]
    [InlineData("Expecting `=` after a key instead of 'hunter2\n[log]'", "Expecting `=` after a key instead of …")]
    [InlineData("Expecting `=` after a key instead of hunter2", "Expecting `=` after a key instead of …")]
    [InlineData("Expecting `=` after a key instead of \"s3\\\"cret-value-here\"", "Expecting `=` after a key instead of …")]
    [InlineData("Unexpected token [hunter2] found", "Unexpected token […")]
    [InlineData("Unexpected token `s3\\` then `cret-value` found", "Unexpected token `…")]
    [InlineData("Unexpected token `pa`ss-hunter2-secret` found", "Unexpected token `…")]
    [InlineData("Expected `,` or `]` while parsing array but was `hunter2", "Expected `,` or `]` while parsing array but was …")]
    [InlineData("Invalid escape `\\x`. Expected 2 hexadecimal digits.", "Invalid escape `\\x`. Expected 2 hexadecimal digits.")]
    [InlineData("The key `env.DB_PASSWORD` is already defined at (2,1) with `DB_PASSWORD = \"hunter2\"`", "The key `env.DB_PASSWORD` is already defined at (2,1)")]
    public void A_TOML_syntax_message_keeps_grammar_tokens_and_drops_source_text(string message, string expected) =>
        Assert.Equal(expected, ConfigFile.WithoutSourceText(message));

    [Fact]
    public void Load_MalformedToml_IsOneErrorWithLineAndColumn()
    {
        using var config = new TempConfig("[workers]\ncount = 3\nthreads = = 2\ntimeout = [\n");
        var error = Assert.Single(config.Load().Errors);
        Assert.StartsWith("tapster.toml:3:", error.ToString(), StringComparison.Ordinal);
        Assert.Contains("not valid TOML", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("[workers]\ncount = \"many\"", "tapster.toml:2:9: workers.count must be a whole number or \"auto\", got a string (\"many\")")]
    [InlineData("[workers]\nthreads = \"4\"", "tapster.toml:2:11: workers.threads must be a whole number, got the string \"4\" (write it without quotes: 4)")]
    [InlineData("[workers]\nthreads = 0", "tapster.toml:2:11: workers.threads must be at least 1, got 0")]
    [InlineData("[workers]\nthreads = 100000", "tapster.toml:2:11: workers.threads must be at most 256, got 100000")]
    [InlineData("[workers]\ngraceful_timeout = \"1200h\"", "tapster.toml:2:20: workers.graceful_timeout '1200h' is longer than 24 days, the longest wait Tapster's timers can hold")]
    [InlineData("[workers]\ntimeout = nan", "tapster.toml:2:11: workers.timeout 'NaN' is not a duration (use seconds, or 500ms, 30s, 5m)")]
    [InlineData("[workers]\nmax_requests = -1", "tapster.toml:2:16: workers.max_requests -1 is out of range (0 to 2147483647)")]
    [InlineData("[workers]\nmax_memory = 512", "tapster.toml:2:14: workers.max_memory must be 0 (no limit) or at least 16 MiB, got 512 bytes (a plain number in the file is bytes: write \"512MiB\")")]
    [InlineData("[workers]\nmax_memory = \"8MiB\"", "tapster.toml:2:14: workers.max_memory must be 0 (no limit) or at least 16 MiB, got 8MiB")]
    [InlineData("[workers]\ntimeout = \"soon\"", "tapster.toml:2:11: workers.timeout 'soon' is not a duration (use seconds, or 500ms, 30s, 5m)")]
    [InlineData("[workers]\ntimeout = 0", "tapster.toml:2:11: workers.timeout '0' must be longer than zero (use seconds, or 500ms, 30s, 5m)")]
    [InlineData("[workers]\npreload = \"no\"", "tapster.toml:2:11: workers.preload must be true or false, got a string (\"no\")")]
    [InlineData("[limits]\nmax_body_size = \"ten\"", "tapster.toml:2:17: limits.max_body_size 'ten' is not a size (use 512KB, 10MB, 100MiB, 1GiB; a plain number is bytes)")]
    [InlineData("[http]\nlisten = \"0.0.0.0:80\"", "tapster.toml:2:10: http.listen must be an array of strings, got a string (\"0.0.0.0:80\") (write [\"0.0.0.0:80\"])")]
    [InlineData("[http]\nlisten = [\"example.com:80\"]", "tapster.toml:2:10: http.listen 'example.com' in 'example.com:80' is not an IP address (use 0.0.0.0, ::, 127.0.0.1 or localhost)")]
    [InlineData("[http]\nscript_name = \"shop/\"", "tapster.toml:2:15: http.script_name 'shop/' must start with '/' and not end with one (e.g. /shop)")]
    [InlineData("env_files = [\"missing.env\"]", "tapster.toml:1:13: env_files 'missing.env' does not exist")]
    [InlineData("wokers = 3", "tapster.toml:1:1: unknown key 'wokers' (did you mean 'workers.count'?)")]
    [InlineData("[workers]\nthread = 3", "tapster.toml:2:1: unknown key 'workers.thread' (did you mean 'workers.threads'?)")]
    [InlineData("bind = [\"0.0.0.0:80\"]", "tapster.toml:1:1: unknown key 'bind' (did you mean 'http.listen'?)")]
    [InlineData("[worker]\ncount = 3", "tapster.toml:1:2: unknown table [worker] (did you mean [workers]?)")]
    [InlineData("frobnicate = 1", "tapster.toml:1:1: unknown key 'frobnicate' (`tapster config docs` lists every key)")]
    public void Load_EachKindOfMistake_IsReportedWithItsLocationAndAHint(string toml, string expected)
    {
        using var config = new TempConfig(toml);
        var error = Assert.Single(config.Load().Errors);
        Assert.StartsWith(expected, error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Load_SeveralMistakes_AreAllReportedAtOnce()
    {
        using var config = new TempConfig("wokers = 3\n[workers]\nthreads = 0\ntimeout = \"soon\"\n[limits]\nmax_body_size = true\n");
        var result = config.Load(new() { ["TAPSTER_QUEUE_SIZE"] = "lots" }, new() { ["workers.count"] = "0" });
        Assert.Equal(
            [
                "tapster.toml:1:1: unknown key 'wokers' (did you mean 'workers.count'?)",
                "--workers must be at least 1, got 0",
                "tapster.toml:3:11: workers.threads must be at least 1, got 0",
                "tapster.toml:4:11: workers.timeout 'soon' is not a duration (use seconds, or 500ms, 30s, 5m)",
                "TAPSTER_QUEUE_SIZE 'lots' is not a whole number",
                "tapster.toml:6:17: limits.max_body_size must be a size, got a boolean (true) (use 512KB, 10MB, 100MiB, 1GiB)",
            ],
            result.Errors.Select(e => e.ToString()));
    }

    [Fact]
    public void Load_FileMistakeUnderAFlag_IsStillReported()
    {
        using var config = new TempConfig("[workers]\nthreads = 0\n");
        var result = config.Load(flags: new() { ["workers.threads"] = "2" });
        Assert.Single(result.Errors);
    }
}

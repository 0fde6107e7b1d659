using System.Diagnostics;
using System.Text.Json;

namespace Tapster.Tests.Functional;

/// <summary>
/// <c>tapster check</c> end to end: the real binary audits apps from testassets/check, each copied into
/// a private temp directory so the git and state-file checks see only what the test puts there.
/// </summary>
[Collection(FunctionalGroup.Name)]
public sealed class CheckTests : IDisposable
{
    const string StrongKey = "k3Vq9-xT2pLm7Rw4zYb8NcQ1sHd6FgJ0";
    const string FakeAwsKey = "AKIAIOSFODNN7EXAMPLE";
    static readonly Dictionary<string, string> WithStrongKey = new() { ["GOOD_APP_SECRET_KEY"] = StrongKey };
    static readonly string[] Statuses = ["PASS", "WARN", "FAIL", "SKIP"];
    static readonly string[] JsonFields = ["id", "status", "title", "detail", "fix"];

    readonly string dir = Directory.CreateTempSubdirectory("tapster-check-ft-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    string Copy(string asset)
    {
        var source = Path.Combine(TapsterServer.TestAssets, "check", asset);
        if (File.Exists(source))
        {
            File.Copy(source, Path.Combine(dir, asset));
            return asset;
        }

        foreach (var file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories).Where(f => !f.Contains("__pycache__", StringComparison.Ordinal)))
        {
            var target = Path.Combine(dir, asset, Path.GetRelativePath(source, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }

        return asset;
    }

    async Task<ProcessRun.Result> CheckAsync(IDictionary<string, string>? env, params string[] args)
    {
        await TapsterServer.EnsureBuiltAsync();
        var result = await RunAsync(TapsterServer.Binary, dir, env, ["check", "--python", TapsterServer.Python, .. args]);
        Assert.DoesNotContain("Unhandled exception", result.Stderr, StringComparison.Ordinal);
        return result;
    }

    async Task<Dictionary<string, JsonElement>> CheckJsonAsync(IDictionary<string, string>? env, int expectedExit, params string[] args)
    {
        var (code, stdout, stderr) = await CheckAsync(env, [.. args, "--json"]);
        Assert.True(code == expectedExit, $"exit {code}, expected {expectedExit}:\n{stdout}\n{stderr}");
        return JsonDocument.Parse(stdout).RootElement.EnumerateArray().ToDictionary(r => r.GetProperty("id").GetString()!, r => r.Clone());
    }

    static string Status(Dictionary<string, JsonElement> results, string id) => results[id].GetProperty("status").GetString()!;

    static string Detail(Dictionary<string, JsonElement> results, string id) => results[id].GetProperty("detail").GetString()!;

    static Task<ProcessRun.Result> RunAsync(string file, string workingDirectory, IDictionary<string, string>? env, string[] args) =>
        ProcessRun.RunAsync(file, workingDirectory, args, env,
            unset: ["FLASK_DEBUG", "FLASK_ENV", "TAPSTER_MASTER_KEY", "TAPSTER_CONFIG"], timeout: TimeSpan.FromSeconds(90));

    async Task GitAsync(params string[] args)
    {
        var (code, stdout, stderr) = await RunAsync("git", dir, null, ["-c", "user.name=Test", "-c", "user.email=test@example.com", .. args]);
        Assert.True(code == 0, $"git {string.Join(' ', args)}: {stdout}{stderr}");
    }

    [Fact]
    public async Task A_production_ready_app_passes_every_app_check_and_exits_0()
    {
        var results = await CheckJsonAsync(WithStrongKey, 0, Copy("good_app.py"));
        foreach (var id in new[] { "app-import", "dev-server", "debug", "secret-key", "session-cookie", "health-endpoint", "local-uploads", "tls", "workers", "threads", "timeout" })
            Assert.True(Status(results, id) == "PASS", $"{id}: {results[id]}");
        Assert.DoesNotContain(results.Values, r => r.GetProperty("status").GetString() == "FAIL");
        Assert.Equal("SKIP", Status(results, "committed-secrets")); // the temp directory is no git repository
    }

    [Fact]
    public async Task Every_json_result_has_id_status_title_detail_and_fix()
    {
        var results = await CheckJsonAsync(WithStrongKey, 0, Copy("good_app.py"));
        foreach (var result in results.Values)
        {
            Assert.Equal(JsonFields, result.EnumerateObject().Select(p => p.Name));
            Assert.Contains(result.GetProperty("status").GetString(), Statuses);
        }
    }

    [Fact]
    public async Task The_text_report_aligns_its_columns_gives_a_fix_for_each_problem_and_has_no_colour_when_redirected()
    {
        var (code, stdout, _) = await CheckAsync(null, Copy("debug_app.py"));
        Assert.Equal(1, code);
        Assert.DoesNotContain("\e[", stdout, StringComparison.Ordinal);
        var lines = stdout.Split('\n');
        var results = lines.Where(l => l.Length > 4 && l[..4] is "PASS" or "WARN" or "FAIL" or "SKIP").ToList();
        Assert.True(results.Count >= 15, stdout);
        // The detail starts in the same column on every line: after the widest title and two spaces.
        var detailColumns = results.Select(l => System.Text.RegularExpressions.Regex.Match(l, "^(PASS|WARN|FAIL|SKIP)  (.+?)  +(?<detail>\\S.*)$").Groups["detail"].Index).Distinct();
        Assert.Single(detailColumns);
        var failing = lines.Select((l, i) => (l, i)).First(x => x.l.StartsWith("FAIL  Debug mode", StringComparison.Ordinal)).i;
        Assert.StartsWith("      fix: ", lines[failing + 1], StringComparison.Ordinal);
        Assert.Matches(@"^\d+ checks: ", lines.Last(l => l.Length > 0));
    }

    [Fact]
    public async Task Debug_mode_fails_and_a_missing_health_route_warns()
    {
        var results = await CheckJsonAsync(null, 1, Copy("debug_app.py"));
        Assert.Equal("FAIL", Status(results, "debug"));
        Assert.Contains("app.debug is True", Detail(results, "debug"), StringComparison.Ordinal);
        Assert.Equal("WARN", Status(results, "health-endpoint"));
        Assert.Contains("/health 404", Detail(results, "health-endpoint"), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("FLASK_DEBUG", "1")]
    [InlineData("FLASK_ENV", "development")]
    public async Task A_debug_variable_in_the_environment_fails_the_debug_check(string name, string value)
    {
        var env = new Dictionary<string, string>(WithStrongKey) { [name] = value };
        var results = await CheckJsonAsync(env, 1, Copy("good_app.py"));
        Assert.Equal("FAIL", Status(results, "debug"));
        Assert.Contains($"{name}={value}", Detail(results, "debug"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_app_that_starts_the_development_server_on_import_fails_with_file_and_line()
    {
        var results = await CheckJsonAsync(null, 1, Copy("devserver_app.py"));
        Assert.Equal("FAIL", Status(results, "dev-server"));
        Assert.Contains("devserver_app.py:13 calls Flask.run()", Detail(results, "dev-server"), StringComparison.Ordinal);
        Assert.Contains("__main__", results["dev-server"].GetProperty("fix").GetString()!, StringComparison.Ordinal);
        Assert.Equal("PASS", Status(results, "health-endpoint")); // the import went on: the app was audited
    }

    [Fact]
    public async Task A_placeholder_secret_key_fails_without_being_shown()
    {
        var (code, stdout, stderr) = await CheckAsync(null, Copy("weak_key_app.py"), "--json");
        Assert.Equal(1, code);
        Assert.DoesNotContain("change-me", stdout + stderr, StringComparison.Ordinal);
        var result = JsonDocument.Parse(stdout).RootElement.EnumerateArray().Single(r => r.GetProperty("id").GetString() == "secret-key");
        Assert.Equal("FAIL", result.GetProperty("status").GetString());
        Assert.Contains("placeholder", result.GetProperty("detail").GetString()!, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Session_cookies_without_httponly_fail_and_without_secure_or_samesite_warn_unless_Tapster_adds_them()
    {
        var app = Copy("cookies_app.py");
        var hardened = await CheckJsonAsync(WithStrongKey, 0, app);
        Assert.Equal("PASS", Status(hardened, "session-cookie"));
        Assert.Contains("added by Tapster", Detail(hardened, "session-cookie"), StringComparison.Ordinal);

        var config = Path.Combine(dir, "plain-cookies.toml");
        File.WriteAllText(config, "[headers]\ncookie_httponly = false\ncookie_secure = false\ncookie_samesite = false\n");
        var results = await CheckJsonAsync(WithStrongKey, 1, app, "--config", config);
        Assert.Equal("FAIL", Status(results, "session-cookie"));
        Assert.Equal("set SESSION_COOKIE_HTTPONLY = True, SESSION_COOKIE_SECURE = True, SESSION_COOKIE_SAMESITE = \"Lax\"",
            results["session-cookie"].GetProperty("fix").GetString());
        var weak = await CheckJsonAsync(null, 1, Copy("weak_key_app.py"), "--config", config);
        Assert.Equal("WARN", Status(weak, "session-cookie"));
    }

    [Fact]
    public async Task Uploads_to_a_local_folder_warn_with_object_storage_as_the_fix()
    {
        var results = await CheckJsonAsync(null, 0, Copy("uploads_app.py"));
        Assert.Equal("WARN", Status(results, "local-uploads"));
        Assert.Contains("UPLOAD_FOLDER", Detail(results, "local-uploads"), StringComparison.Ordinal);
        Assert.Contains("object storage", results["local-uploads"].GetProperty("fix").GetString()!, StringComparison.Ordinal);
        Assert.Equal("PASS", Status(results, "health-endpoint")); // /healthz
    }

    [Fact]
    public async Task A_migrated_Django_project_with_a_real_key_and_named_hosts_passes_its_checks()
    {
        var site = Copy("django_site");
        var migrate = await RunAsync(TapsterServer.Python, Path.Combine(dir, site), null, ["manage.py", "migrate"]);
        Assert.True(migrate.Code == 0, migrate.ToString());

        var results = await CheckJsonAsync(new Dictionary<string, string> { ["DJANGO_SECRET_KEY"] = StrongKey }, 0, site);

        foreach (var id in new[] { "app-import", "debug", "secret-key", "session-cookie", "allowed-hosts", "request-errors", "health-endpoint", "local-uploads", "migrations" })
            Assert.True(Status(results, id) == "PASS", $"{id}: {results[id]}");
    }

    [Fact]
    public async Task A_Django_project_on_the_default_logging_is_warned_that_errors_in_requests_are_logged_nowhere()
    {
        var env = new Dictionary<string, string> { ["DJANGO_SECRET_KEY"] = StrongKey, ["DJANGO_NO_LOGGING"] = "1" };

        var results = await CheckJsonAsync(env, 0, Copy("django_site"));

        Assert.Equal("WARN", Status(results, "request-errors"));
        Assert.Contains("only with DEBUG on", Detail(results, "request-errors"), StringComparison.Ordinal);
        Assert.Contains("\"django.request\": {\"handlers\": [\"console\"]", results["request-errors"].GetProperty("fix").GetString()!, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_Django_project_fails_on_debug_and_startprojects_key_and_warns_on_a_wildcard_host_and_pending_migrations()
    {
        var env = new Dictionary<string, string> { ["DJANGO_DEBUG"] = "1", ["DJANGO_ALLOWED_HOSTS"] = "*", ["DJANGO_MEDIA_ROOT"] = "/srv/media", ["DJANGO_NO_LOGGING"] = "1" };

        var results = await CheckJsonAsync(env, 1, Copy("django_site"));

        Assert.Equal("FAIL", Status(results, "debug"));
        Assert.Contains("DEBUG = True", Detail(results, "debug"), StringComparison.Ordinal);
        Assert.Equal("FAIL", Status(results, "secret-key"));
        Assert.DoesNotContain("django-insecure", results["secret-key"].ToString(), StringComparison.Ordinal);
        Assert.Equal("WARN", Status(results, "allowed-hosts"));
        // DEBUG is on here, so Django's default console handler would log: only the debug check fails.
        Assert.Equal("PASS", Status(results, "request-errors"));
        Assert.Equal("WARN", Status(results, "local-uploads"));
        Assert.Contains("MEDIA_ROOT = /srv/media", Detail(results, "local-uploads"), StringComparison.Ordinal);
        Assert.Equal("WARN", Status(results, "migrations"));
        Assert.Equal("1 migration is not applied: notes.0001_initial", Detail(results, "migrations"));
        Assert.Equal("run `python manage.py migrate` before starting this version", results["migrations"].GetProperty("fix").GetString());
    }

    [Fact]
    public async Task An_app_that_fails_to_import_fails_with_the_exceptions_one_line_message()
    {
        var results = await CheckJsonAsync(null, 1, Copy("broken_app.py"));
        Assert.Equal("FAIL", Status(results, "app-import"));
        Assert.Contains("RuntimeError: database URL is not configured", Detail(results, "app-import"), StringComparison.Ordinal);
        Assert.Equal("SKIP", Status(results, "secret-key"));
        Assert.Equal("SKIP", Status(results, "health-endpoint"));
    }

    [Fact]
    public async Task A_public_bind_without_tls_and_out_of_range_pool_settings_warn()
    {
        var results = await CheckJsonAsync(WithStrongKey, Environment.IsPrivilegedProcess ? 1 : 0,
            Copy("good_app.py"), "--bind", "0.0.0.0:8000", "--workers", "1", "--threads", "64", "--timeout", "300s");
        Assert.Equal("WARN", Status(results, "tls"));
        Assert.Contains("--tls-bind", results["tls"].GetProperty("fix").GetString()!, StringComparison.Ordinal);
        Assert.Equal("WARN", Status(results, "workers"));
        Assert.Equal("WARN", Status(results, "threads"));
        Assert.Equal("WARN", Status(results, "timeout"));
        Assert.Equal(Environment.IsPrivilegedProcess ? "FAIL" : "PASS", Status(results, "root-user"));
    }

    [Fact]
    public async Task Settings_from_tapster_toml_are_audited()
    {
        File.WriteAllText(Path.Combine(dir, "tapster.toml"), "[workers]\ntimeout = \"2s\"\n");
        var results = await CheckJsonAsync(WithStrongKey, 0, Copy("good_app.py"));
        Assert.Equal("WARN", Status(results, "timeout"));
    }

    [Fact]
    public async Task A_master_key_readable_by_others_fails_and_a_private_one_passes()
    {
        var state = Directory.CreateDirectory(Path.Combine(dir, ".tapster")).FullName;
        var key = Path.Combine(state, "master.key");
        File.WriteAllText(key, "not-read-by-the-audit");
        File.SetUnixFileMode(state, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        File.SetUnixFileMode(key, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.OtherRead);
        var open = await CheckJsonAsync(WithStrongKey, 1, Copy("good_app.py"));
        Assert.Equal("FAIL", Status(open, "state-files"));
        Assert.Contains(".tapster/master.key (mode 0604)", Detail(open, "state-files"), StringComparison.Ordinal);

        File.SetUnixFileMode(key, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var closed = await CheckJsonAsync(WithStrongKey, 0, "good_app.py");
        Assert.Equal("PASS", Status(closed, "state-files"));
    }

    [Fact]
    public async Task Committed_secrets_are_reported_by_file_and_line_and_never_shown()
    {
        Copy("good_app.py");
        File.WriteAllText(Path.Combine(dir, "settings.py"), $"import os\n\nAWS_ACCESS_KEY_ID = \"{FakeAwsKey}\"\n");
        File.WriteAllText(Path.Combine(dir, ".env"), "DATABASE_PASSWORD=hunter2-in-dotenv\n");
        File.WriteAllText(Path.Combine(dir, ".env.example"), "DATABASE_PASSWORD=\n");
        await GitAsync("init", "-q");
        await GitAsync("add", "-A");
        await GitAsync("commit", "-q", "-m", "oops");

        var (code, text, stderr) = await CheckAsync(WithStrongKey, "good_app.py");
        var (_, json, _) = await CheckAsync(WithStrongKey, "good_app.py", "--json");
        Assert.Equal(1, code);
        foreach (var output in new[] { text, json, stderr })
        {
            Assert.DoesNotContain("AKIAIOSF", output, StringComparison.Ordinal);
            Assert.DoesNotContain("EXAMPLE", output, StringComparison.Ordinal);
            Assert.DoesNotContain("hunter2", output, StringComparison.Ordinal);
        }

        var results = JsonDocument.Parse(json).RootElement.EnumerateArray().ToDictionary(r => r.GetProperty("id").GetString()!, r => r.Clone());
        Assert.Equal("FAIL", Status(results, "committed-secrets"));
        Assert.Equal("settings.py:3 (AWS access key id)", Detail(results, "committed-secrets"));
        Assert.Equal("FAIL", Status(results, "env-file-tracked"));
        Assert.Equal("git tracks .env", Detail(results, "env-file-tracked"));
        Assert.Contains("settings.py:3", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Only_the_projects_own_tracked_files_are_scanned_and_named_from_the_repository_root()
    {
        var shop = Directory.CreateDirectory(Path.Combine(dir, "shop")).FullName;
        File.Copy(Path.Combine(TapsterServer.TestAssets, "check", "good_app.py"), Path.Combine(shop, "app.py"));
        File.WriteAllText(Path.Combine(shop, "settings.py"), $"AWS_ACCESS_KEY_ID = \"{FakeAwsKey}\"\n");
        var fixtures = Directory.CreateDirectory(Path.Combine(dir, "other", "tests")).FullName;
        File.WriteAllText(Path.Combine(fixtures, "fixture.py"), $"AWS_ACCESS_KEY_ID = \"{FakeAwsKey}\"\n");
        await GitAsync("init", "-q");
        await GitAsync("add", "-A");
        await GitAsync("commit", "-q", "-m", "monorepo");

        var results = await CheckJsonAsync(WithStrongKey, 1, "shop");

        Assert.Equal("shop/settings.py:1 (AWS access key id)", Detail(results, "committed-secrets"));
    }

    [Fact]
    public async Task Pending_migrations_warn_and_a_database_at_head_passes()
    {
        var probe = await RunAsync(TapsterServer.Python, dir, null, ["-c", "import flask_migrate"]);
        Assert.True(probe.Code == 0, "Flask-Migrate is not installed: apt-get install python3-flask-migrate (.ci/run does)");

        Copy("migrations_app");
        var pending = await CheckJsonAsync(null, 0, "migrations_app");
        Assert.Equal("WARN", Status(pending, "migrations"));
        Assert.Contains("the database has no revision", Detail(pending, "migrations"), StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(dir, "migrations_app", "items.db")), "the audit created the database");

        var upgrade = await RunAsync(TapsterServer.Python, Path.Combine(dir, "migrations_app"), new Dictionary<string, string> { ["FLASK_APP"] = "app.py" }, ["-m", "flask", "db", "upgrade"]);
        Assert.True(upgrade.Code == 0, upgrade.Stderr);
        var current = await CheckJsonAsync(null, 0, "migrations_app");
        Assert.Equal("PASS", Status(current, "migrations"));
    }

    [Fact]
    public async Task A_wrong_app_or_an_unknown_flag_is_a_usage_error_with_exit_2()
    {
        var missing = await CheckAsync(null, "nope.py");
        Assert.Equal(2, missing.Code);
        Assert.StartsWith("tapster: error: file", missing.Stderr, StringComparison.Ordinal);
        var flag = await CheckAsync(null, "--frobnicate");
        Assert.Equal(2, flag.Code);
    }
}

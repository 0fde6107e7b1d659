using System.Text.Json;
using Tapster.Audit;
using Tapster.Edge.Headers;

namespace Tapster.Tests.Unit.Audit;

public class AppChecksTests
{
    /// <summary>A Tapster that adds nothing to the app's cookies, so that the app's own flags are graded.</summary>
    static readonly HeaderSettings NoCookieHardening = new() { CookieSecure = false, CookieHttpOnly = false, CookieSameSite = "" };

    /// <summary>The facts of a well-configured Flask app, with one part replaced by <paramref name="patch"/>.</summary>
    static Dictionary<string, CheckResult> Evaluate(string? flask = null, string? environment = null, string? health = null, string? migrations = null, string devServer = "[]", string load = """{"ok": true}""", HeaderSettings? tapster = null)
    {
        flask ??= """{"debug": false, "secret_key": {"present": true, "type": "str", "length": 64, "placeholder": false, "distinct": 16}, "session_cookie": {"SECURE": true, "HTTPONLY": true, "SAMESITE": "Lax"}, "uploads": {}}""";
        environment ??= """{"FLASK_DEBUG": null, "FLASK_ENV": null}""";
        health ??= """[{"path": "/health", "status": 200}]""";
        migrations ??= """{"state": "absent"}""";
        var json = $$"""{"python": "/usr/bin/python3", "load": {{load}}, "dev_server_calls": {{devServer}}, "environment": {{environment}}, "flask": {{flask}}, "health": {{health}}, "migrations": {{migrations}}}""";
        return AppChecks.Evaluate(JsonDocument.Parse(json).RootElement, tapster ?? NoCookieHardening).ToDictionary(r => r.Id);
    }

    static string Flask(string debug = "false", string key = """{"present": true, "type": "str", "length": 64, "placeholder": false, "distinct": 16}""",
        string cookie = """{"SECURE": true, "HTTPONLY": true, "SAMESITE": "Lax"}""", string uploads = "{}", string extra = "") =>
        $$"""{"debug": {{debug}}, "secret_key": {{key}}, "session_cookie": {{cookie}}, "uploads": {{uploads}}{{extra}}}""";

    [Fact]
    public void Evaluate_WellConfiguredApp_PassesEveryCheckButSkipsAbsentMigrations()
    {
        var results = Evaluate();
        Assert.All(results.Values.Where(r => r.Id != "migrations"), r => Assert.Equal(CheckStatus.Pass, r.Status));
        Assert.Equal(CheckStatus.Skip, results["migrations"].Status);
        Assert.DoesNotContain("remember-cookie", results.Keys);
    }

    [Theory]
    [InlineData("true", null, "app.debug is True")]
    [InlineData("false", """{"FLASK_DEBUG": "1", "FLASK_ENV": null}""", "FLASK_DEBUG=1")]
    [InlineData("false", """{"FLASK_DEBUG": null, "FLASK_ENV": "development"}""", "FLASK_ENV=development")]
    public void Evaluate_DebugOn_Fails(string debug, string? environment, string reason)
    {
        var result = Evaluate(Flask(debug), environment)["debug"];
        Assert.Equal(CheckStatus.Fail, result.Status);
        Assert.Contains(reason, result.Detail, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("false")]
    [InlineData("No")]
    public void Evaluate_FlaskDebugFalseWord_Passes(string value) =>
        Assert.Equal(CheckStatus.Pass, Evaluate(environment: $$"""{"FLASK_DEBUG": "{{value}}", "FLASK_ENV": "production"}""")["debug"].Status);

    /// <summary>The checks of a Django project whose settings are <paramref name="django"/> and migrations <paramref name="migrations"/>.</summary>
    static Dictionary<string, CheckResult> EvaluateDjango(string hosts = """["example.com"]""", string debug = "false", string migrations = """{"state": "checked", "framework": "django", "pending": []}""",
        string errorsLogged = "true")
    {
        var django = $$"""{"debug": {{debug}}, "secret_key": {"present": true, "type": "str", "length": 64, "placeholder": false, "distinct": 16}, "session_cookie": {"SECURE": true, "HTTPONLY": true, "SAMESITE": "Lax"}, "allowed_hosts": {{hosts}}, "uploads": {}, "request_errors_logged": {{errorsLogged}} }""";
        var json = $$"""{"python": "/usr/bin/python3", "load": {"ok": true}, "dev_server_calls": [], "environment": {"FLASK_DEBUG": null, "FLASK_ENV": null}, "django": {{django}}, "health": [{"path": "/health", "status": 200}], "migrations": {{migrations}}}""";
        return AppChecks.Evaluate(JsonDocument.Parse(json).RootElement, NoCookieHardening).ToDictionary(r => r.Id);
    }

    [Fact]
    public void Evaluate_WellConfiguredDjangoProject_PassesEveryCheck() =>
        Assert.All(EvaluateDjango().Values, r => Assert.Equal(CheckStatus.Pass, r.Status));

    [Theory]
    [InlineData("[]", "Fail", "400 Bad Request to every request")]
    [InlineData("""["example.com", "*"]""", "Warn", "any Host header is believed")]
    public void Evaluate_DjangoAllowedHosts_EmptyFailsAndWildcardWarns(string hosts, string status, string detail)
    {
        var result = EvaluateDjango(hosts)["allowed-hosts"];
        Assert.Equal(Enum.Parse<CheckStatus>(status), result.Status);
        Assert.Contains(detail, result.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Evaluate_DjangoLoggingErrorsNowhere_Warns() =>
        Assert.Equal(CheckStatus.Warn, EvaluateDjango(errorsLogged: "false")["request-errors"].Status);

    [Fact]
    public void Evaluate_DjangoDebug_FailsNamingWhatVisitorsSee() =>
        Assert.Contains("traceback, the settings and the SQL", EvaluateDjango(debug: "true")["debug"].Detail, StringComparison.Ordinal);

    [Fact]
    public void Evaluate_ManyPendingDjangoMigrations_NamesTheFirstFive()
    {
        var pending = string.Join(", ", Enumerable.Range(1, 7).Select(i => $"\"shop.000{i}\""));
        var result = EvaluateDjango(migrations: $$"""{"state": "checked", "framework": "django", "pending": [{{pending}}]}""")["migrations"];
        Assert.Equal(CheckStatus.Warn, result.Status);
        Assert.Equal("7 migrations are not applied: shop.0001, shop.0002, shop.0003, shop.0004, shop.0005 and 2 more", result.Detail);
    }

    [Fact]
    public void Evaluate_UnreachableDjangoDatabase_WarnsWithTheReason()
    {
        var result = EvaluateDjango(migrations: """{"state": "unchecked", "framework": "django", "reason": "OperationalError: could not connect"}""")["migrations"];
        Assert.Equal(CheckStatus.Warn, result.Status);
        Assert.Contains("could not connect", result.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Evaluate_DevServerCalled_FailsNamingFileAndLine()
    {
        var result = Evaluate(devServer: """[{"call": "Flask.run", "file": "app.py", "line": 12}]""")["dev-server"];
        Assert.Equal(CheckStatus.Fail, result.Status);
        Assert.StartsWith("app.py:12 calls Flask.run()", result.Detail, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"present": false}""", "Warn", "not set")]
    [InlineData("""{"present": true, "type": "str", "length": 64, "placeholder": true, "distinct": 20}""", "Fail", "placeholder")]
    [InlineData("""{"present": true, "type": "str", "length": 31, "placeholder": false, "distinct": 20}""", "Fail", "31 characters")]
    [InlineData("""{"present": true, "type": "bytes", "length": 15, "placeholder": false, "distinct": 15}""", "Fail", "15 bytes")]
    [InlineData("""{"present": true, "type": "bytes", "length": 16, "placeholder": false, "distinct": 15}""", "Pass", "16 bytes")]
    [InlineData("""{"present": true, "type": "str", "length": 40, "placeholder": false, "distinct": 3}""", "Fail", "fewer than 8")]
    [InlineData("""{"present": true, "type": "int"}""", "Warn", "int")]
    public void Evaluate_SecretKey_GradesItsProperties(string key, string status, string detail)
    {
        var result = Evaluate(Flask(key: key))["secret-key"];
        Assert.Equal(Enum.Parse<CheckStatus>(status), result.Status);
        Assert.Contains(detail, result.Detail, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"SECURE": true, "HTTPONLY": false, "SAMESITE": "Lax"}""", "Fail", "set SESSION_COOKIE_HTTPONLY = True")]
    [InlineData("""{"SECURE": false, "HTTPONLY": true, "SAMESITE": "Strict"}""", "Warn", "set SESSION_COOKIE_SECURE = True")]
    [InlineData("""{"SECURE": true, "HTTPONLY": true, "SAMESITE": "None"}""", "Warn", "set SESSION_COOKIE_SAMESITE = \"Lax\"")]
    public void Evaluate_SessionCookieFlagMissing_NamesTheSetting(string cookie, string status, string fix)
    {
        var result = Evaluate(Flask(cookie: cookie))["session-cookie"];
        Assert.Equal(Enum.Parse<CheckStatus>(status), result.Status);
        Assert.Equal(fix, result.Fix);
    }

    [Fact]
    public void Evaluate_CookieFlagsTapsterAdds_PassNamingThem()
    {
        var result = Evaluate(Flask(cookie: """{"SECURE": false, "HTTPONLY": false, "SAMESITE": null}"""), tapster: new HeaderSettings())["session-cookie"];
        Assert.Equal(CheckStatus.Pass, result.Status);
        Assert.EndsWith("(HttpOnly, Secure (on HTTPS), SameSite=Lax added by Tapster)", result.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Evaluate_AnAppsOwnSameSiteNone_IsStillAWarningWhateverTapsterAdds()
    {
        var result = Evaluate(Flask(cookie: """{"SECURE": true, "HTTPONLY": true, "SAMESITE": "None"}"""), tapster: new HeaderSettings())["session-cookie"];
        Assert.Equal(CheckStatus.Warn, result.Status);
    }

    [Fact]
    public void Evaluate_FlaskLogin_ChecksTheRememberCookie()
    {
        var result = Evaluate(Flask(extra: """, "remember_cookie": {"SECURE": false, "HTTPONLY": true, "SAMESITE": null}"""))["remember-cookie"];
        Assert.Equal(CheckStatus.Warn, result.Status);
        Assert.Equal("set REMEMBER_COOKIE_SECURE = True, REMEMBER_COOKIE_SAMESITE = \"Lax\"", result.Fix);
    }

    [Fact]
    public void Evaluate_NoHealthPathAnswers200_WarnsListingWhatEachGot()
    {
        var result = Evaluate(health: """[{"path": "/health", "status": 404}, {"path": "/ping", "error": "RuntimeError: boom"}]""")["health-endpoint"];
        Assert.Equal(CheckStatus.Warn, result.Status);
        Assert.Contains("/health 404, /ping RuntimeError: boom", result.Detail, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"UPLOAD_FOLDER": "/srv/uploads"}""", "Warn")]
    [InlineData("""{"UPLOADS_DEFAULT_DEST": "s3://bucket/uploads"}""", "Pass")]
    public void Evaluate_Uploads_WarnOnlyForLocalPaths(string uploads, string status) =>
        Assert.Equal(Enum.Parse<CheckStatus>(status), Evaluate(Flask(uploads: uploads))["local-uploads"].Status);

    [Theory]
    [InlineData("""{"state": "checked", "directory": "migrations", "heads": ["b"], "current": ["b"]}""", "Pass")]
    [InlineData("""{"state": "checked", "directory": "migrations", "heads": ["b"], "current": ["a"]}""", "Warn")]
    [InlineData("""{"state": "checked", "directory": "migrations", "heads": ["b"], "current": []}""", "Warn")]
    [InlineData("""{"state": "unchecked", "directory": "migrations", "reason": "alembic is not installed for /usr/bin/python3"}""", "Skip")]
    [InlineData("""{"state": "unchecked", "directory": "migrations", "heads": ["b"], "reason": "OperationalError: no such host"}""", "Warn")]
    public void Evaluate_Migrations_ComparesHeadsWithTheDatabase(string migrations, string status) =>
        Assert.Equal(Enum.Parse<CheckStatus>(status), Evaluate(migrations: migrations)["migrations"].Status);

    [Fact]
    public void Evaluate_ImportFailed_FailsWithTheMessageAndSkipsWhatNeedsTheApp()
    {
        var facts = """{"python": "/usr/bin/python3", "load": {"ok": false, "kind": "import", "message": "RuntimeError: no db"}, "dev_server_calls": [], "environment": {"FLASK_DEBUG": null, "FLASK_ENV": null}, "migrations": {"state": "absent"}}""";
        var results = AppChecks.Evaluate(JsonDocument.Parse(facts).RootElement, NoCookieHardening).ToDictionary(r => r.Id);
        Assert.Equal(CheckStatus.Fail, results["app-import"].Status);
        Assert.Equal("RuntimeError: no db", results["app-import"].Detail);
        Assert.All(["dev-server", "debug", "secret-key", "session-cookie", "health-endpoint", "local-uploads"], (string id) => Assert.Equal(CheckStatus.Skip, results[id].Status));
    }

    [Fact]
    public void Failed_ProbeProblem_IsAnImportFailure()
    {
        var results = AppChecks.Evaluate(AppProbe.Failed("/usr/bin/python3", "took too long"), NoCookieHardening).ToDictionary(r => r.Id);
        Assert.Equal(CheckStatus.Fail, results["app-import"].Status);
        Assert.Equal("took too long", results["app-import"].Detail);
    }
}

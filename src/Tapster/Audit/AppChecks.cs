using System.Globalization;
using System.Text.Json;
using Tapster.Edge.Headers;

namespace Tapster.Audit;

/// <summary>
/// Grades the facts the bridge's <c>audit</c> module reported about the app: the import itself, the
/// development server, debug mode, SECRET_KEY, cookies, a health route, uploads and migrations, for Flask
/// apps and Django projects (where ALLOWED_HOSTS joins them).
/// </summary>
internal static class AppChecks
{
    /// <summary>Flask's own rule for FLASK_DEBUG: anything but these turns debug on.</summary>
    private static readonly string[] FalseWords = ["", "0", "false", "no"];

    private const string KeyFix = "set SECRET_KEY from the environment or `tapster secrets`, generated with: python3 -c 'import secrets; print(secrets.token_hex(32))'";

    /// <param name="headers">What Tapster adds to the app's cookies: an attribute it adds is not missing.</param>
    public static IEnumerable<CheckResult> Evaluate(JsonElement facts, HeaderSettings headers)
    {
        var load = facts.GetProperty("load");
        var loaded = load.GetProperty("ok").GetBoolean();
        yield return loaded
            ? CheckResult.Pass("app-import", "App import", $"the app loads (python {Text(facts, "python")})")
            : new CheckResult("app-import", CheckStatus.Fail, "App import", Text(load, "message") ?? "the app did not load",
                "fix this import error; `tapster serve` would stop with the same one");
        yield return loaded ? DevServer(facts) : CheckResult.Skip("dev-server", "Development server", "the app did not load");
        var flask = facts.TryGetProperty("flask", out var f) ? f : (JsonElement?)null;
        var django = facts.TryGetProperty("django", out var d) ? d : (JsonElement?)null;
        // SECRET_KEY, the session cookie and uploads mean the same in both frameworks, under the same names.
        var framework = flask ?? django;
        var skipped = loaded ? "not a Flask or Django app" : "the app did not load";
        yield return Debug(facts, flask, django, loaded);
        yield return framework is { } app ? SecretKey(app.GetProperty("secret_key")) : CheckResult.Skip("secret-key", "SECRET_KEY", skipped);
        yield return framework is { } s ? Cookie("session-cookie", "Session cookie", "SESSION", s.GetProperty("session_cookie"), headers) : CheckResult.Skip("session-cookie", "Session cookie", skipped);
        if (flask is { } login && login.TryGetProperty("remember_cookie", out var remember))
        {
            yield return Cookie("remember-cookie", "Remember-me cookie (Flask-Login)", "REMEMBER", remember, headers);
        }

        if (django is { } hosts)
        {
            yield return AllowedHosts(hosts);
            yield return RequestErrors(hosts);
        }

        yield return loaded ? Health(facts.GetProperty("health")) : CheckResult.Skip("health-endpoint", "Health endpoint", skipped);
        yield return framework is { } u ? Uploads(u.GetProperty("uploads")) : CheckResult.Skip("local-uploads", "Uploads", skipped);
        yield return facts.TryGetProperty("migrations", out var migrations)
            ? Text(migrations, "framework") == "django" ? DjangoMigrations(migrations, Text(facts, "python")) : Migrations(migrations, Text(facts, "python"))
            : CheckResult.Skip("migrations", "Database migrations", "the app could not be looked at");
    }

    private static CheckResult DevServer(JsonElement facts)
    {
        const string Id = "dev-server", Title = "Development server";
        var calls = facts.TryGetProperty("dev_server_calls", out var c) ? c.EnumerateArray().ToList() : [];
        if (calls.Count == 0)
        {
            return CheckResult.Pass(Id, Title, "importing the app does not start a development server");
        }

        var where = string.Join(", ", calls.Select(call => call.GetProperty("file").ValueKind == JsonValueKind.String
            ? $"{Text(call, "file")}:{call.GetProperty("line").GetInt32().ToString(CultureInfo.InvariantCulture)} calls {Text(call, "call")}()"
            : $"{Text(call, "call")}() is called"));
        return new CheckResult(Id, CheckStatus.Fail, Title, $"{where} while the app is imported: under a production server it would start a second, development server",
            "put the call under `if __name__ == \"__main__\":`");
    }

    private static CheckResult Debug(JsonElement facts, JsonElement? flask, JsonElement? django, bool loaded)
    {
        const string Id = "debug", Title = "Debug mode";
        if (django is { } site && site.GetProperty("debug").GetBoolean())
        {
            return new CheckResult(Id, CheckStatus.Fail, Title, "DEBUG = True: Django's error pages show every visitor the traceback, the settings and the SQL",
                "set DEBUG = False in the production settings (for example from an environment variable)");
        }

        var reasons = new List<string>();
        if (flask is { } app && app.GetProperty("debug").GetBoolean())
        {
            reasons.Add("app.debug is True");
        }

        // Absent when Python could not even start: then there is nothing to say about its environment.
        var environment = facts.TryGetProperty("environment", out var e) ? e : default;
        if (Text(environment, "FLASK_DEBUG") is { } debug && !FalseWords.Contains(debug.Trim().ToLowerInvariant()))
        {
            reasons.Add($"FLASK_DEBUG={debug}");
        }

        if (Text(environment, "FLASK_ENV") == "development")
        {
            reasons.Add("FLASK_ENV=development");
        }

        return reasons.Count == 0
            ? loaded ? CheckResult.Pass(Id, Title, flask is null && django is null ? "FLASK_DEBUG and FLASK_ENV are not set to debug" : "debug is off")
                : CheckResult.Skip(Id, Title, "the app did not load (FLASK_DEBUG and FLASK_ENV are not set to debug)")
            : new CheckResult(Id, CheckStatus.Fail, Title, $"debug is on ({string.Join(", ", reasons)}): errors propagate, templates reload, extensions relax their checks",
                "remove DEBUG = True from the config and unset FLASK_DEBUG / FLASK_ENV in the production environment");
    }

    private static CheckResult AllowedHosts(JsonElement django)
    {
        const string Id = "allowed-hosts", Title = "ALLOWED_HOSTS";
        const string Fix = "list the site's own names: ALLOWED_HOSTS = [\"example.com\", \"www.example.com\"]";
        var hosts = Strings(django.GetProperty("allowed_hosts"));
        if (hosts.Count == 0)
        {
            return new CheckResult(Id, CheckStatus.Fail, Title, "ALLOWED_HOSTS is empty: with DEBUG off, Django answers 400 Bad Request to every request", Fix);
        }

        return hosts.Contains("*")
            ? new CheckResult(Id, CheckStatus.Warn, Title, "ALLOWED_HOSTS contains \"*\": any Host header is believed, so password-reset links and cached pages can point at an attacker's domain", Fix)
            : CheckResult.Pass(Id, Title, $"only {string.Join(", ", hosts)}");
    }

    private static CheckResult RequestErrors(JsonElement django)
    {
        const string Id = "request-errors", Title = "Errors in requests";
        return django.GetProperty("request_errors_logged").GetBoolean()
            ? CheckResult.Pass(Id, Title, "Django logs an exception in a request to a handler (Tapster logs it with the request id)")
            : new CheckResult(Id, CheckStatus.Warn, Title,
                "Django logs an exception in a request nowhere: its default LOGGING writes django.request errors to the console only with DEBUG on, and mails them to ADMINS",
                "add a console handler: LOGGING = {\"version\": 1, \"disable_existing_loggers\": False, \"handlers\": {\"console\": {\"class\": \"logging.StreamHandler\"}}, \"loggers\": {\"django.request\": {\"handlers\": [\"console\"], \"level\": \"ERROR\"}}}; Tapster logs each error with its traceback as one event of its request");
    }

    private static CheckResult SecretKey(JsonElement key)
    {
        const string Id = "secret-key", Title = "SECRET_KEY";
        if (!key.GetProperty("present").GetBoolean())
        {
            return new CheckResult(Id, CheckStatus.Warn, Title, "SECRET_KEY is not set: sessions, flash messages and CSRF tokens cannot work", KeyFix);
        }

        var type = Text(key, "type");
        if (type is not ("str" or "bytes"))
        {
            return new CheckResult(Id, CheckStatus.Warn, Title, $"SECRET_KEY is a {type}, not str or bytes", KeyFix);
        }

        var length = key.GetProperty("length").GetInt32();
        var problem = key.GetProperty("placeholder").GetBoolean() ? "a well-known placeholder"
            : type == "str" && length < 32 ? $"{length.ToString(CultureInfo.InvariantCulture)} characters long (at least 32 are needed)"
            : type == "bytes" && length < 16 ? $"{length.ToString(CultureInfo.InvariantCulture)} bytes long (at least 16 are needed)"
            : key.GetProperty("distinct").GetInt32() < 8 ? "made of fewer than 8 different characters"
            : null;
        return problem is null
            ? CheckResult.Pass(Id, Title, $"set, {length.ToString(CultureInfo.InvariantCulture)} {(type == "str" ? "characters" : "bytes")}, not a known placeholder")
            : new CheckResult(Id, CheckStatus.Fail, Title, $"SECRET_KEY is {problem}: anyone who guesses it can forge sessions", KeyFix);
    }

    private static CheckResult Cookie(string id, string title, string prefix, JsonElement flags, HeaderSettings tapster)
    {
        var missing = new List<(CheckStatus Status, string Problem, string Setting)>();
        var added = new List<string>();
        if (flags.GetProperty("HTTPONLY").ValueKind != JsonValueKind.True)
        {
            if (tapster.CookieHttpOnly)
            {
                added.Add("HttpOnly");
            }
            else
            {
                missing.Add((CheckStatus.Fail, "readable by JavaScript (no HttpOnly): one XSS steals it", $"{prefix}_COOKIE_HTTPONLY = True"));
            }
        }

        if (flags.GetProperty("SECURE").ValueKind != JsonValueKind.True)
        {
            if (tapster.CookieSecure)
            {
                added.Add("Secure (on HTTPS)");
            }
            else
            {
                missing.Add((CheckStatus.Warn, "sent over plain HTTP (no Secure)", $"{prefix}_COOKIE_SECURE = True"));
            }
        }

        // Tapster adds SameSite only where the app set none; an app's own "None" stays.
        var sameSite = flags.GetProperty("SAMESITE");
        if (sameSite.ValueKind != JsonValueKind.String || sameSite.GetString() is not ("Lax" or "Strict"))
        {
            if (sameSite.ValueKind != JsonValueKind.String && tapster.CookieSameSite is "Lax" or "Strict")
            {
                added.Add($"SameSite={tapster.CookieSameSite}");
            }
            else
            {
                missing.Add((CheckStatus.Warn, "sent with cross-site requests (no SameSite=Lax or Strict)", $"{prefix}_COOKIE_SAMESITE = \"Lax\""));
            }
        }

        var byTapster = added.Count == 0 ? "" : $" ({string.Join(", ", added)} added by Tapster)";
        return missing.Count == 0
            ? CheckResult.Pass(id, title, "Secure, HttpOnly and SameSite are set" + byTapster)
            : new CheckResult(id, missing.Max(m => m.Status), title, "the cookie is " + string.Join("; ", missing.Select(m => m.Problem)) + byTapster,
                "set " + string.Join(", ", missing.Select(m => m.Setting)));
    }

    private static CheckResult Health(JsonElement probes)
    {
        const string Id = "health-endpoint", Title = "Health endpoint";
        var answers = probes.EnumerateArray().ToList();
        var healthy = answers.FirstOrDefault(p => p.TryGetProperty("status", out var s) && s.GetInt32() == 200);
        if (healthy.ValueKind == JsonValueKind.Object)
        {
            return CheckResult.Pass(Id, Title, $"GET {Text(healthy, "path")} answers 200");
        }

        var got = string.Join(", ", answers.Select(p => $"{Text(p, "path")} {(p.TryGetProperty("status", out var s) ? s.GetInt32().ToString(CultureInfo.InvariantCulture) : Text(p, "error"))}"));
        return new CheckResult(Id, CheckStatus.Warn, Title, $"no health path answers 200 ({got})",
            "add a route such as /health that answers 200 without touching slow dependencies, for load balancers and orchestrators");
    }

    private static CheckResult Uploads(JsonElement uploads)
    {
        const string Id = "local-uploads", Title = "Uploads";
        var local = uploads.EnumerateObject().Where(u => !u.Value.GetString()!.Contains("://", StringComparison.Ordinal)).ToList();
        if (local.Count == 0)
        {
            return CheckResult.Pass(Id, Title, uploads.EnumerateObject().Any() ? "uploads go to remote storage" : "no upload folder configured");
        }

        return new CheckResult(Id, CheckStatus.Warn, Title,
            $"{string.Join(", ", local.Select(u => $"{u.Name} = {u.Value.GetString()}"))} is on this instance's disk: files are lost when it is replaced and unseen by other instances",
            "use object storage (S3, GCS, Azure Blob, MinIO) for uploads, or mount shared storage at that path");
    }

    private static CheckResult Migrations(JsonElement migrations, string? python)
    {
        const string Id = "migrations", Title = "Database migrations";
        var directory = Text(migrations, "directory");
        switch (Text(migrations, "state"))
        {
            case "absent":
                return CheckResult.Skip(Id, Title, "no Alembic migrations (migrations/env.py or alembic.ini) beside the app");
            case "unchecked" when Text(migrations, "reason") is { } reason && reason.StartsWith("alembic is not installed", StringComparison.Ordinal):
                return CheckResult.Skip(Id, Title, $"{directory}/ exists but {reason}: cannot compare it with the database");
            case "unchecked":
                return new CheckResult(Id, CheckStatus.Warn, Title, $"could not compare {directory}/ with the database: {Text(migrations, "reason")}",
                    $"make the database reachable from here, or run `flask db current` / `alembic current` where it is (python {python})");
        }

        var heads = Strings(migrations.GetProperty("heads"));
        var current = Strings(migrations.GetProperty("current"));
        if (heads.Order(StringComparer.Ordinal).SequenceEqual(current.Order(StringComparer.Ordinal)))
        {
            return CheckResult.Pass(Id, Title, $"the database is at head ({string.Join(", ", heads)})");
        }

        var at = current.Count == 0 ? "has no revision" : $"is at {string.Join(", ", current)}";
        return new CheckResult(Id, CheckStatus.Warn, Title, $"migrations are pending: the database {at}, {directory}/ is at {string.Join(", ", heads)}",
            "run `flask db upgrade` (Flask-Migrate) or `alembic upgrade head` before starting this version");
    }

    private static CheckResult DjangoMigrations(JsonElement migrations, string? python)
    {
        const string Id = "migrations", Title = "Database migrations";
        switch (Text(migrations, "state"))
        {
            case "absent":
                return CheckResult.Skip(Id, Title, "no database, or no app with migrations");
            case "unchecked":
                return new CheckResult(Id, CheckStatus.Warn, Title, $"could not compare the migrations with the database: {Text(migrations, "reason")}",
                    $"make the database reachable from here, or run `python manage.py showmigrations` where it is (python {python})");
        }

        var pending = Strings(migrations.GetProperty("pending"));
        if (pending.Count == 0)
        {
            return CheckResult.Pass(Id, Title, "every migration is applied");
        }

        var shown = string.Join(", ", pending.Take(5)) + (pending.Count > 5 ? $" and {(pending.Count - 5).ToString(CultureInfo.InvariantCulture)} more" : "");
        return new CheckResult(Id, CheckStatus.Warn, Title, $"{pending.Count.ToString(CultureInfo.InvariantCulture)} migration{(pending.Count == 1 ? " is" : "s are")} not applied: {shown}",
            "run `python manage.py migrate` before starting this version");
    }

    private static List<string> Strings(JsonElement array) => [.. array.EnumerateArray().Select(e => e.GetString()!)];

    private static string? Text(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}

using System.Net;
using System.Text.Json;

namespace Tapster.Tests.Functional;

[Collection(FunctionalGroup.Name)]
public sealed class SecurityHeadersTests(SharedProbeServer shared) : IDisposable
{
    const string Shop = "https://shop.example";
    readonly string dir = Directory.CreateTempSubdirectory("tapster-headers-ft-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    [Fact]
    public async Task The_default_security_headers_are_on_the_apps_responses_and_on_tapsters_own()
    {
        await using var server = await TapsterServer.StartAsync("probe:app", "--workers", "1", "--max-body-size", "1");
        using var app = await server.Client.GetAsync("/");
        // Headers only: Tapster answers 413 before reading a body, so a client still sending one could see a reset.
        using var raw = await RawHttp.ConnectAsync(server.Port);
        await raw.SendAsync("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2097152\r\n\r\n");
        Assert.True(await raw.ReadUntilAsync(t => t.Contains("\r\n\r\n", StringComparison.Ordinal), Http.Short), raw.Text);

        Assert.StartsWith("HTTP/1.1 413 ", raw.Text, StringComparison.Ordinal);
        var tooLarge = raw.Text[..raw.Text.IndexOf("\r\n\r\n", StringComparison.Ordinal)];
        foreach (var (name, value) in DefaultHeaders)
        {
            Assert.Equal(value, Header(app, name));
            Assert.Contains($"\r\n{name}: {value}\r\n", tooLarge + "\r\n", StringComparison.Ordinal);
        }

        // Plain HTTP: browsers ignore HSTS there; and the CSP is off until written for the app.
        Assert.Null(Header(app, "Strict-Transport-Security"));
        Assert.Null(Header(app, "Content-Security-Policy"));
        Assert.DoesNotContain("Strict-Transport-Security", tooLarge, StringComparison.OrdinalIgnoreCase);
    }

    static readonly (string Name, string Value)[] DefaultHeaders =
    [
        ("X-Content-Type-Options", "nosniff"),
        ("X-Frame-Options", "SAMEORIGIN"),
        ("Referrer-Policy", "strict-origin-when-cross-origin"),
        ("Permissions-Policy", "geolocation=(), microphone=(), camera=()"),
    ];

    [Fact]
    public async Task A_header_the_app_set_is_left_alone_and_its_cookies_get_only_the_missing_flags()
    {
        using var client = new HttpClient(new SocketsHttpHandler { UseCookies = false }) { BaseAddress = shared.Server.BaseAddress };
        using var r = await client.GetAsync("/own-headers");

        Assert.Equal(["DENY"], r.Headers.GetValues("X-Frame-Options"));
        Assert.Equal("nosniff", Header(r, "X-Content-Type-Options"));
        Assert.Equal(
            ["plain=1; HttpOnly; SameSite=Lax", "flagged=1; Secure; HttpOnly; SameSite=Strict", "pref=secure-httponly; Path=/; HttpOnly; SameSite=Lax"],
            r.Headers.GetValues("Set-Cookie"));
    }

    [Fact]
    public async Task A_removed_header_is_absent_and_a_report_only_csp_is_sent_as_such()
    {
        var config = Write("""
            [headers]
            x_frame_options = false
            permissions_policy = ""
            content_security_policy = "default-src 'self'; report-uri /csp"
            content_security_policy_report_only = true
            """);
        await using var server = await TapsterServer.StartAsync("probe:app", new Dictionary<string, string> { ["TAPSTER_CONFIG"] = config }, "--workers", "1");
        using var r = await server.Client.GetAsync("/");

        Assert.Null(Header(r, "X-Frame-Options"));
        Assert.Null(Header(r, "Permissions-Policy"));
        Assert.Null(Header(r, "Content-Security-Policy"));
        Assert.Equal("default-src 'self'; report-uri /csp", Header(r, "Content-Security-Policy-Report-Only"));
        Assert.Equal("nosniff", Header(r, "X-Content-Type-Options"));
    }

    [Fact]
    public async Task No_security_headers_turns_them_all_off()
    {
        await using var server = await TapsterServer.StartAsync("probe:app", "--workers", "1", "--no-security-headers");
        using var r = await server.Client.GetAsync("/");

        Assert.Null(Header(r, "X-Content-Type-Options"));
        Assert.Null(Header(r, "X-Frame-Options"));
        Assert.Null(Header(r, "Referrer-Policy"));
    }

    [Fact]
    public async Task Without_a_cors_table_a_preflight_reaches_the_app()
    {
        using var preflight = Preflight("/", Shop, "PUT");
        using var r = await shared.Server.Client.SendAsync(preflight);

        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.Null(Header(r, "Access-Control-Allow-Origin"));
        var access = await AccessEventAsync(shared.Server, r);
        Assert.True(access.TryGetProperty("worker_pid", out var pid) && pid.ValueKind == JsonValueKind.Number, access.GetRawText());
    }

    [Fact]
    public async Task A_cors_preflight_is_answered_at_the_edge_allowed_or_refused()
    {
        await using var server = await CorsServerAsync();

        using (var allowed = await server.Client.SendAsync(Preflight("/", Shop, "PUT", "content-type")))
        {
            Assert.Equal(HttpStatusCode.NoContent, allowed.StatusCode);
            Assert.Equal(Shop, Header(allowed, "Access-Control-Allow-Origin"));
            Assert.Equal("GET, POST, PUT", Header(allowed, "Access-Control-Allow-Methods"));
            Assert.Equal("Content-Type", Header(allowed, "Access-Control-Allow-Headers"));
            Assert.Equal("true", Header(allowed, "Access-Control-Allow-Credentials"));
            Assert.Equal("120", Header(allowed, "Access-Control-Max-Age"));
            Assert.Equal("nosniff", Header(allowed, "X-Content-Type-Options"));
            await AssertNoWorkerAsync(server, allowed);
        }

        foreach (var (origin, method) in new[] { ("https://evil.example", "PUT"), (Shop, "DELETE") })
        {
            using var refused = await server.Client.SendAsync(Preflight("/", origin, method));
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
            Assert.DoesNotContain(refused.Headers, h => h.Key.StartsWith("Access-Control-", StringComparison.OrdinalIgnoreCase));
            await AssertNoWorkerAsync(server, refused);
        }
    }

    [Fact]
    public async Task An_allowed_origins_request_gets_the_cors_headers_and_another_origins_does_not()
    {
        await using var server = await CorsServerAsync();

        using var allowed = new HttpRequestMessage(HttpMethod.Get, "/");
        allowed.Headers.Add("Origin", Shop);
        using var ok = await server.Client.SendAsync(allowed);
        Assert.Equal(Shop, Header(ok, "Access-Control-Allow-Origin"));
        Assert.Equal("true", Header(ok, "Access-Control-Allow-Credentials"));
        Assert.Equal("X-Request-ID", Header(ok, "Access-Control-Expose-Headers"));
        Assert.Contains("Origin", ok.Headers.Vary);

        using var other = new HttpRequestMessage(HttpMethod.Get, "/");
        other.Headers.Add("Origin", "https://evil.example");
        using var refused = await server.Client.SendAsync(other);
        Assert.Equal(HttpStatusCode.OK, refused.StatusCode);
        Assert.Null(Header(refused, "Access-Control-Allow-Origin"));
        Assert.Contains("Origin", refused.Headers.Vary);
    }

    [Fact]
    public async Task A_bad_header_or_cors_setting_stops_start_up_naming_it()
    {
        var config = Write("""
            [headers]
            x_frame_options = "DENY\r\nX-Injected: 1"

            [cors]
            allow_origins = ["*", "https://shop.example/app"]
            allow_credentials = true
            """);
        var (code, _, stderr, _) = await TapsterServer.StartExpectingExitAsync("probe:app", ["--config", config]);

        Assert.Equal(2, code);
        Assert.Contains("tapster.toml:2:19: headers.x_frame_options must not hold control characters", stderr, StringComparison.Ordinal);
        Assert.Contains("tapster.toml:5:17: cors.allow_origins 'https://shop.example/app' is not an origin", stderr, StringComparison.Ordinal);
    }

    Task<TapsterServer> CorsServerAsync()
    {
        var config = Write("""
            [cors]
            allow_origins = ["https://shop.example", "http://localhost:3000"]
            allow_methods = ["GET", "POST", "PUT"]
            allow_headers = ["Content-Type"]
            expose_headers = ["X-Request-ID"]
            allow_credentials = true
            max_age = "2m"
            """);
        return TapsterServer.StartAsync("probe:app", new Dictionary<string, string> { ["TAPSTER_CONFIG"] = config }, "--workers", "1");
    }

    string Write(string toml)
    {
        var path = Path.Combine(dir, "tapster.toml");
        File.WriteAllText(path, toml);
        return path;
    }

    static HttpRequestMessage Preflight(string path, string origin, string method, string? headers = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Options, path);
        request.Headers.Add("Origin", origin);
        request.Headers.Add("Access-Control-Request-Method", method);
        if (headers is not null) request.Headers.Add("Access-Control-Request-Headers", headers);
        return request;
    }

    static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) || response.Content.Headers.TryGetValues(name, out values)
            ? string.Join(", ", values) : null;

    static Task<JsonElement> AccessEventAsync(TapsterServer server, HttpResponseMessage response)
    {
        var id = Header(response, "X-Request-ID");
        return server.WaitForEventAsync(e => e.Str("event") == "access" && e.Str("request_id") == id, Http.Short);
    }

    static async Task AssertNoWorkerAsync(TapsterServer server, HttpResponseMessage response)
    {
        var access = await AccessEventAsync(server, response);
        Assert.True(!access.TryGetProperty("worker_pid", out var pid) || pid.ValueKind == JsonValueKind.Null,
            "a worker handled the preflight: " + access.GetRawText());
    }
}

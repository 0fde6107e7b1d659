using Tapster.Configuration;
using Tapster.Tests.Unit.Configuration;

namespace Tapster.Tests.Unit.Edge.Headers;

public sealed class HeaderSchemaTests
{
    [Fact]
    public void Load_HeadersAndCorsTables_ReachServeSettings()
    {
        using var config = new TempConfig("""
            [headers]
            x_frame_options = "DENY"
            strict_transport_security = false
            content_security_policy = "default-src 'self'"
            content_security_policy_report_only = true
            cookie_samesite = "strict"
            cookie_httponly = false

            [cors]
            allow_origins = ["https://shop.example"]
            allow_methods = ["GET", "PUT"]
            allow_headers = ["Content-Type"]
            expose_headers = ["X-Request-ID"]
            allow_credentials = true
            max_age = "1h"
            """);

        var settings = config.LoadValid();

        Assert.Equal("DENY", settings.Headers.FrameOptions);
        Assert.Equal("", settings.Headers.StrictTransportSecurity);
        Assert.Equal("default-src 'self'", settings.Headers.ContentSecurityPolicy);
        Assert.True(settings.Headers.ContentSecurityPolicyReportOnly);
        Assert.Equal("Strict", settings.Headers.CookieSameSite);
        Assert.False(settings.Headers.CookieHttpOnly);
        Assert.Equal(["https://shop.example"], settings.Cors.AllowOrigins);
        Assert.Equal(["GET", "PUT"], settings.Cors.AllowMethods);
        Assert.True(settings.Cors.AllowCredentials);
        Assert.Equal(TimeSpan.FromHours(1), settings.Cors.MaxAge);
    }

    [Fact]
    public void Load_NoSecurityHeadersFlagOrVariable_TurnsThemOff()
    {
        using var config = new TempConfig();

        Assert.True(config.LoadValid().Headers.Enabled);
        Assert.False(config.LoadValid(flags: new() { ["headers.enabled"] = "true" }).Headers.Enabled);
        Assert.False(config.LoadValid(environment: new() { ["TAPSTER_NO_SECURITY_HEADERS"] = "1" }).Headers.Enabled);
    }

    [Theory]
    [InlineData("[cors]\nallow_origins = [\"*\"]\nallow_credentials = true\n",
        "tapster.toml:3:21: cors.allow_credentials cannot be true while allow_origins or allow_headers holds \"*\"")]
    [InlineData("[cors]\nallow_origins = [\"https://shop.example/\"]\n",
        "tapster.toml:2:17: cors.allow_origins 'https://shop.example/' is not an origin")]
    [InlineData("[cors]\nallow_methods = [\"GET POST\"]\n",
        "tapster.toml:2:17: cors.allow_methods 'GET POST' is not a method or header name")]
    [InlineData("[headers]\nx_frame_options = \"DENY\\r\\nSet-Cookie: a=b\"\n",
        "tapster.toml:2:19: headers.x_frame_options must not hold control characters such as CR or LF")]
    [InlineData("[headers]\nreferrer_policy = true\n",
        "tapster.toml:2:19: headers.referrer_policy must be a header value or false (no header), got a boolean (true)")]
    [InlineData("[headers]\ncookie_samesite = \"Relaxed\"\n",
        "tapster.toml:2:19: headers.cookie_samesite must be \"Strict\", \"Lax\", \"None\", or false, got 'Relaxed'")]
    [InlineData("[headers]\ncookie_secure = false\ncookie_samesite = \"None\"\n",
        "tapster.toml:3:19: headers.cookie_samesite \"None\" needs cookie_secure = true")]
    [InlineData("[header]\nx_frame_options = \"DENY\"\n", "tapster.toml:1:2: unknown table [header] (did you mean [headers]?)")]
    public void Load_BadHeaderOrCorsSetting_IsReportedWithItsLocation(string toml, string expectedStart)
    {
        using var config = new TempConfig(toml);

        var error = Assert.Single(config.Load().Errors);

        Assert.StartsWith(expectedStart, error.ToString(), StringComparison.Ordinal);
    }
}

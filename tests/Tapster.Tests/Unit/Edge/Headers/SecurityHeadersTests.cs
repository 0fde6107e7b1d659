using Microsoft.AspNetCore.Http;
using Tapster.Edge.Headers;

namespace Tapster.Tests.Unit.Edge.Headers;

public sealed class SecurityHeadersTests
{
    [Fact]
    public void Apply_Defaults_AddsTheTalismanSetWithoutCspOrHstsOverHttp()
    {
        var headers = Apply(new HeaderSettings(), isHttps: false);

        Assert.Equal("nosniff", headers["X-Content-Type-Options"]);
        Assert.Equal("SAMEORIGIN", headers["X-Frame-Options"]);
        Assert.Equal("strict-origin-when-cross-origin", headers["Referrer-Policy"]);
        Assert.Equal("geolocation=(), microphone=(), camera=()", headers["Permissions-Policy"]);
        Assert.False(headers.ContainsKey("Strict-Transport-Security"));
        Assert.False(headers.ContainsKey("Content-Security-Policy"));
        Assert.Equal(5, headers.Count);
    }

    [Fact]
    public void Apply_Https_AddsStrictTransportSecurity() =>
        Assert.Equal("max-age=31536000; includeSubDomains", Apply(new HeaderSettings(), isHttps: true)["Strict-Transport-Security"]);

    [Fact]
    public void Apply_HeaderTheAppSet_IsLeftAloneWhateverItsCase()
    {
        var headers = new HeaderDictionary { ["x-frame-options"] = "DENY", ["X-Request-ID"] = "r1" };

        new SecurityHeaders(new HeaderSettings()).Apply(headers, isHttps: false);

        Assert.Equal("DENY", headers["X-Frame-Options"]);
        Assert.Single(headers["X-Frame-Options"]);
        Assert.Equal("nosniff", headers["X-Content-Type-Options"]);
    }

    [Fact]
    public void Apply_EmptyValue_RemovesThatHeaderOnly()
    {
        var headers = Apply(new HeaderSettings { FrameOptions = "", StrictTransportSecurity = "" }, isHttps: true);

        Assert.False(headers.ContainsKey("X-Frame-Options"));
        Assert.False(headers.ContainsKey("Strict-Transport-Security"));
        Assert.True(headers.ContainsKey("X-Content-Type-Options"));
    }

    [Fact]
    public void Apply_Disabled_AddsNothing() =>
        Assert.Single(Apply(new HeaderSettings { Enabled = false }, isHttps: true));

    [Theory]
    [InlineData(false, "Content-Security-Policy")]
    [InlineData(true, "Content-Security-Policy-Report-Only")]
    public void Apply_Csp_UsesTheEnforcingOrTheReportOnlyHeader(bool reportOnly, string expectedName)
    {
        var headers = Apply(new HeaderSettings { ContentSecurityPolicy = "default-src 'self'", ContentSecurityPolicyReportOnly = reportOnly }, isHttps: false);

        Assert.Equal("default-src 'self'", headers[expectedName]);
        Assert.Single(headers, h => h.Key.StartsWith("Content-Security-Policy", StringComparison.Ordinal));
    }

    private static HeaderDictionary Apply(HeaderSettings settings, bool isHttps)
    {
        var headers = new HeaderDictionary { ["X-Request-ID"] = "r1" };
        new SecurityHeaders(settings).Apply(headers, isHttps);
        return headers;
    }
}

using Microsoft.AspNetCore.Http;
using Tapster.Edge.Headers;

namespace Tapster.Tests.Unit.Edge.Headers;

public sealed class CorsPolicyTests
{
    private static readonly CorsSettings Shop = new()
    {
        AllowOrigins = ["https://shop.example", "http://localhost:3000"],
        AllowMethods = ["GET", "POST", "PUT"],
        AllowHeaders = ["Content-Type", "Authorization"],
        ExposeHeaders = ["X-Request-ID"],
        AllowCredentials = true,
        MaxAge = TimeSpan.FromMinutes(10),
    };

    [Theory]
    [InlineData("https://shop.example", true)]
    [InlineData("http://localhost:3000", true)]
    [InlineData("http://[::1]:8080", true)]
    [InlineData("https://shop.example/", false)]
    [InlineData("https://shop.example/path", false)]
    [InlineData("https://Shop.example", false)]
    [InlineData("https://user@shop.example", false)]
    [InlineData("shop.example", false)]
    [InlineData("https://shop.example:443", false)]
    [InlineData("null", false)]
    public void IsOrigin_AcceptsOnlyWhatBrowsersSend(string text, bool expected) => Assert.Equal(expected, CorsPolicy.IsOrigin(text));

    [Fact]
    public void Preflight_AllowedOriginMethodAndHeaders_GetsEveryHeader()
    {
        var (result, response) = Preflight(Shop, "https://shop.example", "PUT", "content-type, authorization");

        Assert.Equal(PreflightResult.Allowed, result);
        Assert.Equal("https://shop.example", response.AccessControlAllowOrigin);
        Assert.Equal("GET, POST, PUT", response.AccessControlAllowMethods);
        Assert.Equal("Content-Type, Authorization", response.AccessControlAllowHeaders);
        Assert.Equal("true", response.AccessControlAllowCredentials);
        Assert.Equal("600", response.AccessControlMaxAge);
        Assert.Equal("Origin", response.Vary);
    }

    [Theory]
    [InlineData("https://evil.example", "GET", "")]
    [InlineData("https://shop.example.evil.example", "GET", "")]
    [InlineData("https://SHOP.example", "GET", "")]
    [InlineData("https://shop.example", "DELETE", "")]
    [InlineData("https://shop.example", "PUT", "content-type, x-secret")]
    public void Preflight_AnythingNotAllowed_IsRefusedWithoutCorsHeaders(string origin, string method, string headers)
    {
        var (result, response) = Preflight(Shop, origin, method, headers);

        Assert.Equal(PreflightResult.Refused, result);
        Assert.Empty(response);
    }

    [Fact]
    public void Preflight_WithoutAccessControlRequestMethod_IsNotAPreflight()
    {
        var request = new HeaderDictionary { ["Origin"] = "https://shop.example" };

        Assert.Equal(PreflightResult.NotPreflight, new CorsPolicy(Shop).Preflight(request, new HeaderDictionary()));
    }

    [Theory]
    [InlineData("PATCH", true)]
    [InlineData("patch", false)]
    public void Preflight_Method_IsComparedCaseSensitivelyAsBrowsersDo(string method, bool allowed)
    {
        var settings = new CorsSettings { AllowOrigins = ["https://shop.example"], AllowMethods = ["GET", "PATCH"] };

        Assert.Equal(allowed ? PreflightResult.Allowed : PreflightResult.Refused, Preflight(settings, "https://shop.example", method, "").Result);
    }

    [Fact]
    public void Preflight_Wildcards_AllowAnyOriginAndHeaderWithoutVary()
    {
        var any = new CorsSettings { AllowOrigins = ["*"], AllowHeaders = ["*"] };

        var (result, response) = Preflight(any, "https://anyone.example", "POST", "x-anything");

        Assert.Equal(PreflightResult.Allowed, result);
        Assert.Equal("*", response.AccessControlAllowOrigin);
        Assert.Equal("*", response.AccessControlAllowHeaders);
        Assert.False(response.ContainsKey("Access-Control-Allow-Credentials"));
        Assert.False(response.ContainsKey("Vary"));
    }

    [Fact]
    public void Apply_AllowedOrigin_GetsOriginCredentialsExposeAndVaryAppended()
    {
        IHeaderDictionary response = new HeaderDictionary { ["Vary"] = "Cookie" };

        new CorsPolicy(Shop).Apply("http://localhost:3000", response);

        Assert.Equal("http://localhost:3000", response.AccessControlAllowOrigin);
        Assert.Equal("true", response.AccessControlAllowCredentials);
        Assert.Equal("X-Request-ID", response.AccessControlExposeHeaders);
        Assert.Equal("Cookie,Origin", response.Vary.ToString());
    }

    [Theory]
    [InlineData("https://evil.example")]
    [InlineData(null)]
    public void Apply_OtherOrNoOrigin_GetsOnlyVaryOrigin(string? origin)
    {
        var response = new HeaderDictionary();

        new CorsPolicy(Shop).Apply(origin, response);

        Assert.Equal("Origin", Assert.Single(response).Value);
    }

    [Fact]
    public void Apply_AppDoesCorsItself_IsLeftAlone()
    {
        IHeaderDictionary response = new HeaderDictionary { ["Access-Control-Allow-Origin"] = "https://other.example" };

        new CorsPolicy(Shop).Apply("https://shop.example", response);

        Assert.Single(response);
        Assert.Equal("https://other.example", response.AccessControlAllowOrigin);
    }

    private static (PreflightResult Result, IHeaderDictionary Response) Preflight(CorsSettings settings, string origin, string method, string requestHeaders)
    {
        IHeaderDictionary request = new HeaderDictionary { ["Origin"] = origin, ["Access-Control-Request-Method"] = method };
        if (requestHeaders.Length > 0)
        {
            request.AccessControlRequestHeaders = requestHeaders;
        }

        IHeaderDictionary response = new HeaderDictionary();
        return (new CorsPolicy(settings).Preflight(request, response), response);
    }
}

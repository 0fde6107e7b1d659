using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;
using Tapster.Edge.Compression;

namespace Tapster.Tests.Unit.Edge.Compression;

public sealed class CompressionPolicyTests
{
    private static readonly CompressionPolicy Defaults = new(new CompressionSettings());

    [Theory]
    [InlineData("gzip, deflate, br", "Brotli")]
    [InlineData("gzip", "Gzip")]
    [InlineData("br;q=0.5, gzip", "Gzip")]
    [InlineData("gzip;q=0.8, br;q=0.8", "Brotli")]
    [InlineData("GZIP;Q=0.5, BR;q=0.4", "Gzip")]
    [InlineData("*", "Brotli")]
    [InlineData("gzip, *;q=0", "Gzip")]
    [InlineData("br;q=0, *", "Gzip")]
    [InlineData("gzip;q=0", "Identity")]
    [InlineData("gzip;q=nonsense", "Identity")]
    [InlineData("identity", "Identity")]
    [InlineData("deflate, compress", "Identity")]
    [InlineData("", "Identity")]
    public void Negotiate_FollowsQualitiesAndPrefersBrotliOnATie(string acceptEncoding, string expected) =>
        Assert.Equal(expected, CompressionPolicy.Negotiate(new StringValues(acceptEncoding)).ToString());

    [Fact]
    public void Negotiate_NoHeader_IsIdentity() => Assert.Equal(ContentCoding.Identity, CompressionPolicy.Negotiate(StringValues.Empty));

    [Theory]
    [InlineData(200, "text/html; charset=utf-8", null, null, true)]
    [InlineData(404, "application/json", null, null, true)]
    [InlineData(200, "APPLICATION/JSON", null, null, true)]
    [InlineData(200, "image/svg+xml", null, null, true)]
    [InlineData(200, "image/png", null, null, false)]
    [InlineData(200, "application/octet-stream", null, null, false)]
    [InlineData(200, "text/event-stream", null, null, false)]
    [InlineData(200, null, null, null, false)]
    [InlineData(200, "text/html", "gzip", null, false)]
    [InlineData(200, "text/html", "identity", null, false)]
    [InlineData(200, "text/html", null, "public, no-transform", false)]
    [InlineData(200, "text/html", null, "no-cache", true)]
    [InlineData(204, "text/html", null, null, false)]
    [InlineData(206, "text/html", null, null, false)]
    [InlineData(304, "text/html", null, null, false)]
    [InlineData(101, "text/html", null, null, false)]
    public void IsCompressible_NeedsATextTypeAndAnUntouchedFullBody(int status, string? type, string? encoding, string? cacheControl, bool expected)
    {
        var response = new DefaultHttpContext().Response;
        response.StatusCode = status;
        response.Headers.ContentType = type;
        response.Headers.ContentEncoding = encoding;
        response.Headers.CacheControl = cacheControl;
        Assert.Equal(expected, Defaults.IsCompressible(response));
    }

    [Fact]
    public void Begin_BelowTheMinimumSize_LeavesTheResponseAlone()
    {
        var context = TextResponse("gzip, br");
        context.Response.ContentLength = 1023;
        Assert.Null(Defaults.Begin(context, 1023));
        Assert.Equal(1023, context.Response.ContentLength);
        Assert.Equal(0, context.Response.Headers.Vary.Count);
        Assert.Equal(0, context.Response.Headers.ContentEncoding.Count);
    }

    [Fact]
    public void Begin_AtTheMinimumSize_CompressesAndRewritesTheHeaders()
    {
        var context = TextResponse("gzip, br");
        context.Response.Headers.ETag = "\"v1\"";
        context.Response.Headers.AcceptRanges = "bytes";
        using var compressor = Defaults.Begin(context, 1024);
        Assert.NotNull(compressor);
        var headers = context.Response.Headers;
        Assert.Equal("br", headers.ContentEncoding);
        Assert.Null(context.Response.ContentLength);
        Assert.Equal("Accept-Encoding", headers.Vary);
        Assert.Equal("W/\"v1\"", headers.ETag);
        Assert.Equal(0, headers.AcceptRanges.Count);
    }

    [Fact]
    public void Begin_AStreamOfUnknownLength_IsCompressed()
    {
        var context = TextResponse("gzip");
        context.Response.ContentLength = null;
        using var compressor = Defaults.Begin(context, null);
        Assert.NotNull(compressor);
        Assert.Equal("gzip", context.Response.Headers.ContentEncoding);
    }

    [Fact]
    public void Begin_WeakETag_StaysAsItIs()
    {
        var context = TextResponse("br");
        context.Response.Headers.ETag = "W/\"v1\"";
        using var compressor = Defaults.Begin(context, 5000);
        Assert.Equal("W/\"v1\"", context.Response.Headers.ETag);
    }

    [Fact]
    public void Begin_ClientTakesNoCoding_SendsIdentityButStillVaries()
    {
        var context = TextResponse(null);
        Assert.Null(Defaults.Begin(context, 5000));
        Assert.Equal("Accept-Encoding", context.Response.Headers.Vary);
        Assert.Equal(5000, context.Response.ContentLength);
        Assert.Equal(0, context.Response.Headers.ContentEncoding.Count);
    }

    [Fact]
    public void Begin_Head_SendsIdentityHeadersButStillVaries()
    {
        var context = TextResponse("gzip, br");
        context.Request.Method = "HEAD";
        Assert.Null(Defaults.Begin(context, 5000));
        Assert.Equal("Accept-Encoding", context.Response.Headers.Vary);
        Assert.Equal(5000, context.Response.ContentLength);
    }

    [Theory]
    [InlineData("Cookie", "Cookie,Accept-Encoding")]
    [InlineData("accept-encoding", "accept-encoding")]
    [InlineData("Origin, Accept-Encoding", "Origin, Accept-Encoding")]
    [InlineData("*", "*")]
    public void Begin_AppsVary_GetsAcceptEncodingOnce(string appVary, string expected)
    {
        var context = TextResponse("gzip");
        context.Response.Headers.Vary = appVary;
        using var compressor = Defaults.Begin(context, 5000);
        Assert.Equal(expected, context.Response.Headers.Vary.ToString());
    }

    [Fact]
    public void Begin_Disabled_LeavesEveryResponseAlone()
    {
        var context = TextResponse("gzip, br");
        Assert.Null(new CompressionPolicy(new CompressionSettings { Enabled = false }).Begin(context, 100_000));
        Assert.Equal(0, context.Response.Headers.Vary.Count);
    }

    [Fact]
    public void Begin_ConfiguredTypesAndSize_AreTheOnesUsed()
    {
        var policy = new CompressionPolicy(new CompressionSettings { MinSize = 10, Types = ["application/x-custom"] });
        var custom = TextResponse("gzip");
        custom.Response.Headers.ContentType = "application/x-custom";
        using var compressor = policy.Begin(custom, 10);
        Assert.NotNull(compressor);
        Assert.Null(policy.Begin(TextResponse("gzip"), 5000));
    }

    private static DefaultHttpContext TextResponse(string? acceptEncoding)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = "GET";
        context.Request.Headers.AcceptEncoding = acceptEncoding;
        context.Response.StatusCode = 200;
        context.Response.ContentType = "text/html; charset=utf-8";
        context.Response.ContentLength = 5000;
        return context;
    }
}

using Microsoft.AspNetCore.Http;
using Tapster.Edge;

namespace Tapster.Tests.Unit.Edge;

public sealed class RequestFramingTests
{
    [Theory]
    [InlineData("chunked")]
    [InlineData("CHUNKED")]
    [InlineData(" chunked ")]
    [InlineData("chunked,")]
    [InlineData(", chunked")]
    public void Refusal_ChunkedAlone_IsNone(string transferEncoding) => Assert.Null(RequestFraming.Refusal(Request(transferEncoding).Request));

    [Fact]
    public void Refusal_NoTransferEncoding_IsNone() => Assert.Null(RequestFraming.Refusal(Request(null, contentLength: 5).Request));

    [Theory]
    [InlineData("gzip, chunked", 501)]
    [InlineData("chunked, chunked", 400)]
    [InlineData("deflate", 501)]
    public void Refusal_OtherCodings_AreRefused(string transferEncoding, int status) =>
        Assert.Equal(status, RequestFraming.Refusal(Request(transferEncoding).Request)?.Status);

    [Fact]
    public void Refusal_ContentLengthBesideChunked_IsBadRequest() =>
        Assert.Equal(400, RequestFraming.Refusal(Request("chunked", contentLength: 5).Request)?.Status);

    [Fact]
    public void Refusal_ContentLengthKestrelMovedAside_IsBadRequest()
    {
        var context = Request("chunked");
        context.Request.Headers["X-Content-Length"] = "5";
        Assert.Equal(400, RequestFraming.Refusal(context.Request)?.Status);
    }

    [Theory]
    [InlineData("HTTP/2")]
    [InlineData("HTTP/3")]
    public void Refusal_AnyTransferEncodingInHttp2OrLater_IsBadRequest(string protocol)
    {
        var context = Request("chunked");
        context.Request.Protocol = protocol;
        Assert.Equal(400, RequestFraming.Refusal(context.Request)?.Status);
    }

    [Fact]
    public void Refusal_ChunkedInHttp10_IsBadRequest()
    {
        var context = Request("chunked");
        context.Request.Protocol = "HTTP/1.0";
        Assert.Equal(400, RequestFraming.Refusal(context.Request)?.Status);
    }

    private static DefaultHttpContext Request(string? transferEncoding, long? contentLength = null)
    {
        var context = new DefaultHttpContext();
        context.Request.Protocol = "HTTP/1.1";
        context.Request.Headers.TransferEncoding = transferEncoding;
        context.Request.ContentLength = contentLength;
        return context;
    }
}

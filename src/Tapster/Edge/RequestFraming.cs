using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Tapster.Edge;

/// <summary>
/// The body-framing rules of RFC 9112 6 that Kestrel applies leniently, checked before a request reaches
/// a worker. A request whose body two parsers could measure differently is the raw material of request
/// smuggling (a proxy in front reads one request, Tapster another); Tapster refuses it, as nginx does,
/// instead of choosing a reading.
/// </summary>
internal static class RequestFraming
{
    private const string KestrelMovedContentLength = "X-Content-Length";

    /// <summary>The status and short message refusing <paramref name="request"/>, or null when its framing is sound.</summary>
    public static (int Status, string Message)? Refusal(HttpRequest request)
    {
        // A tunnel (HTTP/1.1 CONNECT, or HTTP/2's extended CONNECT that WebSockets use) is nothing a
        // WSGI app can answer: its 200 would leave a connection no one reads. 501, as for a method the
        // server does not implement for any resource (RFC 9110 15.6.2).
        if (HttpMethods.IsConnect(request.Method))
        {
            return (StatusCodes.Status501NotImplemented, "Not Implemented: CONNECT tunnels are not served\n");
        }

        // RFC 9112 3.2 / RFC 9113 8.3.1: a request target is visible ASCII. Kestrel refuses spaces and
        // non-ASCII bytes in an HTTP/1.1 request line but lets other control characters through, and
        // takes any byte in an HTTP/2 :path; the app would see them in PATH_INFO and QUERY_STRING (and
        // log them). nginx refuses them too.
        if (request.HttpContext.Features.Get<IHttpRequestFeature>()?.RawTarget is { } target
            && target.AsSpan().ContainsAnyExceptInRange('!', '~'))
        {
            return (StatusCodes.Status400BadRequest, "Bad Request: a control character, space or non-ASCII byte in the request target\n");
        }

        var transferEncoding = request.Headers.TransferEncoding;
        if (transferEncoding.Count == 0)
        {
            return null;
        }

        // RFC 9113 8.2.2: HTTP/2 has no transfer codings; a request carrying one is malformed.
        if (HttpProtocol.IsHttp2(request.Protocol) || HttpProtocol.IsHttp3(request.Protocol))
        {
            return (StatusCodes.Status400BadRequest, "Bad Request: Transfer-Encoding in an HTTP/2 request\n");
        }

        // RFC 9112 6.1: an HTTP/1.0 message with Transfer-Encoding has faulty framing.
        if (HttpProtocol.IsHttp10(request.Protocol))
        {
            return (StatusCodes.Status400BadRequest, "Bad Request: Transfer-Encoding in an HTTP/1.0 request\n");
        }

        // RFC 9112 6.3 lets Transfer-Encoding win, and so does Kestrel, renaming the Content-Length to
        // X-Content-Length; the RFC also allows refusing the pair, which leaves no doubt (and no request
        // for the app). A client sending chunked with a header of that name is refused too.
        if (request.Headers.ContentLength is not null || request.Headers.ContainsKey(KestrelMovedContentLength))
        {
            return (StatusCodes.Status400BadRequest, "Bad Request: both Content-Length and Transfer-Encoding\n");
        }

        var chunked = 0;
        var others = 0;
        foreach (var value in transferEncoding)
        {
            var text = value.AsSpan();
            foreach (var range in text.Split(','))
            {
                var coding = text[range].Trim(" \t");
                if (coding.IsEmpty)
                {
                    continue; // RFC 9110 5.6.1: empty list elements do not count
                }

                if (coding.Equals("chunked", StringComparison.OrdinalIgnoreCase))
                {
                    chunked++;
                }
                else
                {
                    others++;
                }
            }
        }

        // RFC 9112 7: chunked is applied once; 6.1: a coding the server does not know gets 501.
        return chunked > 1 ? (StatusCodes.Status400BadRequest, "Bad Request: chunked more than once in Transfer-Encoding\n")
            : others > 0 ? (StatusCodes.Status501NotImplemented, "Not Implemented: only the chunked transfer coding is supported\n")
            : null;
    }
}

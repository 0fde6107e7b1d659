using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;
using Tapster.Edge.Headers;

namespace Tapster.Edge.Compression;

/// <summary>
/// Decides, once the app's status and headers are in, whether its body goes out compressed, and
/// rewrites the headers to match: Content-Encoding, Vary, no Content-Length, a weak ETag.
/// </summary>
internal sealed class CompressionPolicy(CompressionSettings settings)
{
    private const string Brotli = "br";
    private const string Gzip = "gzip";

    private readonly bool _enabled = settings.Enabled;
    private readonly long _minSize = settings.MinSize;
    private readonly CompressibleTypes _types = new(settings.Types);

    /// <summary>
    /// The compressor for this response, or null to send it as the app wrote it. <paramref name="length"/>
    /// is the app's Content-Length, null for a stream.
    /// </summary>
    public ResponseCompressor? Begin(HttpContext context, long? length)
    {
        // First and alone: most responses of a busy app are small, and must pay nothing more.
        if (!_enabled || length < _minSize || !IsCompressible(context.Response))
        {
            return null;
        }

        // Whoever asks, the body depends on Accept-Encoding: caches must key on it, even for identity.
        VaryHeader.Add(context.Response.Headers, "Accept-Encoding");
        var coding = HttpMethods.IsHead(context.Request.Method) ? ContentCoding.Identity : Negotiate(context.Request.Headers.AcceptEncoding);
        if (coding == ContentCoding.Identity)
        {
            return null;
        }

        Encode(context.Response, coding);
        return new ResponseCompressor(coding, context.Response.BodyWriter);
    }

    /// <summary>
    /// Whether a response may be compressed at all: a body of a compressible type, which the app did not
    /// encode itself and did not mark no-transform (RFC 9111 5.2.2.6), and not a partial one.
    /// </summary>
    public bool IsCompressible(HttpResponse response)
    {
        var headers = response.Headers;
        return response.StatusCode is >= 200 and not (StatusCodes.Status204NoContent or StatusCodes.Status206PartialContent or StatusCodes.Status304NotModified)
            && StringValues.IsNullOrEmpty(headers.ContentEncoding)
            && _types.Contains(headers.ContentType)
            && !HasNoTransform(headers.CacheControl);
    }

    /// <summary>Brotli or gzip, whichever the client prefers; Brotli when it likes both as much (smaller, as fast).</summary>
    public static ContentCoding Negotiate(StringValues acceptEncoding)
    {
        if (StringValues.IsNullOrEmpty(acceptEncoding))
        {
            return ContentCoding.Identity;
        }

        var (brotli, gzip) = AcceptEncoding.Qualities(acceptEncoding, Brotli, Gzip);
        if (brotli > 0 && brotli >= gzip)
        {
            return ContentCoding.Brotli;
        }

        return gzip > 0 ? ContentCoding.Gzip : ContentCoding.Identity;
    }

    private static bool HasNoTransform(StringValues cacheControl)
    {
        foreach (var value in cacheControl)
        {
            if (value is not null && value.Contains("no-transform", StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    private static void Encode(HttpResponse response, ContentCoding coding)
    {
        var headers = response.Headers;
        headers.ContentEncoding = coding == ContentCoding.Brotli ? Brotli : Gzip;
        response.ContentLength = null;
        // The app's byte ranges and strong validator describe the bytes it wrote, not the ones sent
        // (RFC 9110 8.8.1): as nginx does, no ranges and a weak ETag, still good for If-None-Match.
        headers.Remove("Accept-Ranges");
        if (headers.ETag is [{ } etag] && etag.StartsWith('"'))
        {
            headers.ETag = "W/" + etag;
        }
    }
}

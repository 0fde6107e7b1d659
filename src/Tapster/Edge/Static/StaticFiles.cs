using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Tapster.Edge.Headers;
using Tapster.Telemetry;

namespace Tapster.Edge.Static;

/// <summary>
/// Serves files under the <c>[static]</c> prefixes straight from Kestrel, never touching a worker:
/// validators and 304s, single ranges, precompressed siblings, caching headers, and a refusal with a
/// logged reason for every path that tries to leave its directory or reach a hidden file.
/// </summary>
internal sealed partial class StaticFiles(StaticSite[] sites, HeaderPolicy headers, AccessLog accessLog, GracefulStop stop, ILogger<StaticFiles> logger)
{
    /// <summary>A year, the most RFC 9111 caches honour; the name changes when the content does.</summary>
    public const string ImmutableCacheControl = "public, max-age=31536000, immutable";

    /// <summary>Best first: Brotli is smaller than gzip at the same speed to decode.</summary>
    private static readonly (string Coding, string Suffix)[] Precompressed = [("br", ".br"), ("gzip", ".gz")];

    /// <summary>
    /// <paramref name="app"/> with the static prefixes in front: one ordinal prefix check per mount for
    /// every other request, and <paramref name="app"/> itself when there are no mounts.
    /// </summary>
    public RequestDelegate Wrap(RequestDelegate app)
    {
        if (sites.Length == 0)
        {
            return app;
        }

        foreach (var site in sites)
        {
            LogServing(logger, site.Prefix, site.Root);
        }

        return context =>
        {
            if (context.Request.Path.Value is { } path)
            {
                if (SiteCovering(path) is { } site)
                {
                    return ServeAsync(context, site, path);
                }

                // The app routes "/static%2F.env" and "//static/.env" to its own static route, past the
                // dotfile and symlink rules here: a prefix reached that way is the static site's too.
                if (RoutedPath.MayDiffer(path) && RoutedPath.Of(context) is var routed && SiteCovering(routed) is { } routedSite)
                {
                    return ServeAsync(context, routedSite, routed);
                }
            }

            return app(context);
        };
    }

    private StaticSite? SiteCovering(string path)
    {
        foreach (var site in sites)
        {
            if (site.Covers(path))
            {
                return site;
            }
        }

        return null;
    }

    private async Task ServeAsync(HttpContext context, StaticSite site, string path)
    {
        var started = Stopwatch.GetTimestamp();
        var requestId = RequestIds.Assign(context);
        long bytes = 0;
        var sent = new StrongBox<long>(); // what got out when a download is cut short
        try
        {
            // The same edge rules as the app's responses: CORS preflights, security headers.
            if (headers.TryAnswerPreflight(context))
            {
                return;
            }

            headers.Apply(context);
            bytes = await RespondAsync(context, site, path, requestId, sent).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or ConnectionResetException or IOException)
        {
            ClientClosed.Mark(context, stop);
            bytes = sent.Value;
        }
        finally
        {
            accessLog.Write(context, requestId, bytes, started);
        }
    }

    /// <summary>Answers the request; returns the body bytes sent, for the access log.</summary>
    private async Task<long> RespondAsync(HttpContext context, StaticSite site, string path, string requestId, StrongBox<long> sent)
    {
        var request = context.Request;
        var response = context.Response;
        if (!HttpMethods.IsGet(request.Method) && !HttpMethods.IsHead(request.Method))
        {
            response.Headers.Allow = "GET, HEAD";
            return await RefuseAsync(context, StatusCodes.Status405MethodNotAllowed, path, "only GET and HEAD are served").ConfigureAwait(false);
        }

        var relative = path.AsSpan(site.Prefix.Length);
        var lookup = site.Resolve(relative, out var file);
        if (lookup == Lookup.Directory)
        {
            if (!path.EndsWith('/'))
            {
                // As nginx does: relative links in the index page resolve against the slash.
                response.StatusCode = StatusCodes.Status301MovedPermanently;
                // Encoded again: the path was decoded, and a header carries ASCII only ("/static/my dir/").
                response.Headers.Location = new PathString(path + "/").ToUriComponent() + request.QueryString.Value;
                return 0;
            }

            lookup = site.Resolve(string.Concat(relative, "index.html"), out file);
            if (lookup is Lookup.Missing or Lookup.Directory)
            {
                return await RefuseAsync(context, StatusCodes.Status404NotFound, path, "a directory without index.html (no listings)").ConfigureAwait(false);
            }
        }

        if (lookup != Lookup.File)
        {
            var (status, reason) = Refusal(lookup);
            return await RefuseAsync(context, status, path, reason).ConfigureAwait(false);
        }

        var (served, coding) = ChooseRepresentation(site, file!, request.Headers.AcceptEncoding);
        var headers = response.Headers;
        var lastModified = Validators.LastModified(served.LastWriteTimeUtc);
        var etag = Validators.ETag(served.LastWriteTimeUtc, served.Length, coding);
        headers.ETag = etag;
        headers.LastModified = lastModified.ToString("r", CultureInfo.InvariantCulture);
        headers.CacheControl = Fingerprint.IsFingerprinted(Path.GetFileName(relative)) ? ImmutableCacheControl : site.CacheControl;
        headers.Append("Vary", "Accept-Encoding");
        if (Validators.IsNotModified(request.Headers.IfNoneMatch, request.Headers.IfModifiedSince, etag, lastModified))
        {
            response.StatusCode = StatusCodes.Status304NotModified;
            return 0;
        }

        headers.AcceptRanges = "bytes";
        var range = HttpMethods.IsGet(request.Method) && request.Headers.Range is { Count: 1 } rangeHeader
            && Validators.RangeStillValid(request.Headers.IfRange, etag, lastModified)
            ? ByteRange.Parse(rangeHeader[0], served.Length)
            : ByteRange.Whole(served.Length);
        if (range.Kind == RangeKind.Unsatisfiable)
        {
            headers.ContentRange = string.Create(CultureInfo.InvariantCulture, $"bytes */{served.Length}");
            response.StatusCode = StatusCodes.Status416RangeNotSatisfiable;
            response.ContentLength = 0;
            return 0;
        }

        if (range.Kind == RangeKind.Partial)
        {
            response.StatusCode = StatusCodes.Status206PartialContent;
            headers.ContentRange = string.Create(CultureInfo.InvariantCulture, $"bytes {range.Start}-{range.Start + range.Length - 1}/{served.Length}");
        }

        headers.ContentType = ContentTypes.For(file!.Name);
        if (coding is not null)
        {
            headers.ContentEncoding = coding;
        }

        response.ContentLength = range.Length;
        if (HttpMethods.IsHead(request.Method))
        {
            return 0;
        }

        return await SendAsync(context, served, range, path, requestId, sent).ConfigureAwait(false);
    }

    /// <summary>
    /// The precompressed sibling of the coding the client prefers, as for compressed app responses:
    /// by q, Brotli on a tie; the other one when the preferred has no sibling; else the file itself.
    /// </summary>
    private static (FileInfo File, string? Coding) ChooseRepresentation(StaticSite site, FileInfo file, Microsoft.Extensions.Primitives.StringValues acceptEncoding)
    {
        var (brotli, gzip) = AcceptEncoding.Qualities(acceptEncoding, "br", "gzip");
        var order = gzip > brotli ? Enumerable.Reverse(Precompressed) : Precompressed;
        foreach (var (coding, suffix) in order)
        {
            if ((coding == "br" ? brotli : gzip) > 0 && site.Sibling(file, suffix) is { } sibling)
            {
                return (sibling, coding);
            }
        }

        return (file, null);
    }

    private async Task<long> SendAsync(HttpContext context, FileInfo file, ByteRange range, string path, string requestId, StrongBox<long> sent)
    {
        Microsoft.Win32.SafeHandles.SafeFileHandle handle;
        try
        {
            handle = File.OpenHandle(file.FullName);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Removed, or unreadable by Tapster's user, since the lookup: nothing was sent yet.
            context.Response.Clear();
            context.Response.Headers["X-Request-ID"] = requestId;
            headers.Apply(context);
            return await RefuseAsync(context, StatusCodes.Status404NotFound, path, $"cannot open the file: {e.Message}").ConfigureAwait(false);
        }

        using (handle)
        {
            return await FileRangeResponse.SendAsync(context, handle, range.Start, range.Length, sent: sent).ConfigureAwait(false);
        }
    }

    private static (int Status, string Reason) Refusal(Lookup lookup) => lookup switch
    {
        Lookup.Malformed => (StatusCodes.Status400BadRequest, "a NUL or a backslash in the path"),
        Lookup.DotSegment => (StatusCodes.Status404NotFound, "a . or .. segment"),
        Lookup.Hidden => (StatusCodes.Status404NotFound, "a dotfile, and dotfiles are off"),
        Lookup.Outside => (StatusCodes.Status404NotFound, "resolves outside the static directory (a symlink)"),
        Lookup.Special => (StatusCodes.Status404NotFound, "not a regular file (a pipe, a socket or a device)"),
        _ => (StatusCodes.Status404NotFound, "no such file"),
    };

    /// <summary>A short plain answer, and the log line saying why; returns the body bytes sent.</summary>
    private Task<long> RefuseAsync(HttpContext context, int status, string path, string reason)
    {
        LogRefused(logger, path, status, reason);
        var message = status switch
        {
            StatusCodes.Status400BadRequest => "Bad Request: malformed path\n",
            StatusCodes.Status405MethodNotAllowed => "Method Not Allowed\n",
            _ => "Not Found\n",
        };
        return PlainReply.SendAsync(context, status, message);
    }

    [LoggerMessage(EventId = 300, EventName = "static.serving", Level = LogLevel.Information, Message = "Serving {Prefix} from {Directory}")]
    private static partial void LogServing(ILogger logger, string prefix, string directory);

    [LoggerMessage(EventId = 301, EventName = "static.refused", Level = LogLevel.Information, Message = "Static request {Path} refused with {Status}: {Reason}")]
    private static partial void LogRefused(ILogger logger, string path, int status, string reason);
}

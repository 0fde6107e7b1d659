using System.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Tapster.Telemetry;

namespace Tapster.Edge;

/// <summary>The access line of a request, from its context: whoever answered it (app, static files, the edge).</summary>
internal static class RequestLog
{
    /// <summary>Writes the line with the response's status; <paramref name="started"/> is a <see cref="Stopwatch"/> timestamp.</summary>
    public static void Write(this AccessLog log, HttpContext context, string requestId, long bytes, long started, double queueMs = 0, int workerPid = 0)
    {
        var request = context.Request;
        // Host and User-Agent, as nginx's combined format has them; not the query string or the
        // Referer, which can carry tokens (password-reset links, signed URLs) into the logs.
        // "OPTIONS *" has no path: its target is all there is. A client on a Unix socket has no
        // address: "unix:", as nginx's $remote_addr says.
        var path = request.Path.HasValue ? request.Path.Value! : context.Features.Get<IHttpRequestFeature>()?.RawTarget ?? "";
        log.Write(new AccessEntry(
            requestId, request.Method, path, request.Protocol, context.Response.StatusCode, bytes,
            Stopwatch.GetElapsedTime(started).TotalMilliseconds, queueMs, workerPid, context.Connection.RemoteIpAddress?.ToString() ?? "unix:",
            request.Host.Value, request.Headers.UserAgent.ToString()));
    }
}

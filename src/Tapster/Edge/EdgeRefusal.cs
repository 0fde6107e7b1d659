using System.Diagnostics;
using Microsoft.AspNetCore.Http;
using Tapster.Edge.Headers;
using Tapster.Telemetry;

namespace Tapster.Edge;

/// <summary>
/// A request Tapster answers itself before the static files and the app (429, 400 for ambiguous
/// framing...): the short plain reply with the security headers and a request id, and its access line.
/// </summary>
internal sealed class EdgeRefusal(HeaderPolicy headers, AccessLog accessLog)
{
    /// <summary>Answers with <paramref name="status"/>; <paramref name="close"/> ends the connection after it.</summary>
    public async Task SendAsync(HttpContext context, int status, string message, bool close)
    {
        var started = Stopwatch.GetTimestamp();
        var requestId = RequestIds.Assign(context);
        if (close)
        {
            // The bytes after this request could be read as another one.
            context.Response.Headers.Connection = "close";
        }

        headers.Apply(context);
        var bytes = await PlainReply.SendAsync(context, status, message).ConfigureAwait(false);
        accessLog.Write(context, requestId, bytes, started);
    }
}

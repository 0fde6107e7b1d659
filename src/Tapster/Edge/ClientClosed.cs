using Microsoft.AspNetCore.Http;

namespace Tapster.Edge;

/// <summary>How a request whose connection ended before its response did shows in the access log.</summary>
internal static class ClientClosed
{
    /// <summary>
    /// 499 (nginx's "client closed request") when nothing was sent yet. A response that had started
    /// keeps its status, as nginx logs it, with the bytes that got out: its status line is on the wire,
    /// and Kestrel refuses to change it (setting it threw, and logged an error for every download a
    /// client cut short).
    /// </summary>
    /// <param name="stop">Tells a request cut off at the end of the graceful stop (503 when nothing was sent) from one its client left.</param>
    public static void Mark(HttpContext context, GracefulStop stop)
    {
        var status = stop.CutOff() ? StatusCodes.Status503ServiceUnavailable : StatusCodes.Status499ClientClosedRequest;
        if (!context.Response.HasStarted)
        {
            context.Response.StatusCode = status;
        }
    }
}

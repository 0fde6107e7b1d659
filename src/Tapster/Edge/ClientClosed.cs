using Microsoft.AspNetCore.Http;

namespace Tapster.Edge;

/// <summary>How a request whose client left shows in the access log.</summary>
internal static class ClientClosed
{
    /// <summary>
    /// 499 (nginx's "client closed request") when nothing was sent yet. A response that had started
    /// keeps its status, as nginx logs it, with the bytes that got out: its status line is on the wire,
    /// and Kestrel refuses to change it (setting it threw, and logged an error for every download a
    /// client cut short).
    /// </summary>
    public static void Mark(HttpContext context)
    {
        if (!context.Response.HasStarted)
        {
            context.Response.StatusCode = StatusCodes.Status499ClientClosedRequest;
        }
    }
}

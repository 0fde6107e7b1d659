using Microsoft.AspNetCore.Http;

namespace Tapster.Edge;

/// <summary>The short plain-text answers Tapster makes itself (413, 429, 503...): one line, no detail an attacker could use.</summary>
internal static class PlainReply
{
    /// <summary>Sends <paramref name="message"/> with <paramref name="status"/>; returns the body bytes sent (none for HEAD).</summary>
    public static async Task<long> SendAsync(HttpContext context, int status, string message)
    {
        var body = System.Text.Encoding.UTF8.GetBytes(message);
        var response = context.Response;
        response.StatusCode = status;
        response.ContentType = "text/plain; charset=utf-8";
        response.ContentLength = body.Length;
        if (HttpMethods.IsHead(context.Request.Method))
        {
            return 0;
        }

        await response.Body.WriteAsync(body, context.RequestAborted).ConfigureAwait(false);
        return body.Length;
    }
}

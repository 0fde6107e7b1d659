using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace Tapster.Edge;

/// <summary>
/// The request id: the client's X-Request-ID when it is a sane token (so ids flow through a chain of
/// services), else a fresh random one (128 bits). Anything else a client sends there could forge log lines.
/// </summary>
internal static class RequestIds
{
    private const int MaxLength = 128;

    /// <summary>The request's id, also set as the response's X-Request-ID.</summary>
    public static string Assign(HttpContext context)
    {
        var id = FromClientOrNew(context.Request.Headers["X-Request-ID"]);
        context.Response.Headers["X-Request-ID"] = id;
        return id;
    }

    public static string FromClientOrNew(StringValues fromClient)
    {
        if (fromClient.Count == 1 && fromClient[0] is { Length: > 0 and <= MaxLength } id && IsSafe(id))
        {
            return id;
        }

        // Ids must be unique, not secret: the shared PRNG costs nanoseconds, where the crypto one
        // checks getpid on every call (OpenSSL's fork guard).
        Span<byte> random = stackalloc byte[16];
        Random.Shared.NextBytes(random);
        return Convert.ToHexStringLower(random);
    }

    private static bool IsSafe(string id)
    {
        foreach (var c in id)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or ':' or '+' or '/' or '='))
            {
                return false;
            }
        }

        return true;
    }
}

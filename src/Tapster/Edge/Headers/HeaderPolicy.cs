using Microsoft.AspNetCore.Http;

namespace Tapster.Edge.Headers;

/// <summary>
/// What the edge adds to responses: security headers, cookie attributes and CORS, each made once from
/// the settings. <see cref="Apply"/> runs on every response (the app's, once its headers are in, and
/// Tapster's own) and only adds what the response lacks.
/// </summary>
internal sealed class HeaderPolicy(HeaderSettings headers, CorsSettings cors)
{
    private readonly SecurityHeaders _security = new(headers);
    private readonly CookieHardener _cookies = new(headers);
    private readonly CorsPolicy? _cors = cors.Enabled ? new CorsPolicy(cors) : null;

    public void Apply(HttpContext context)
    {
        var response = context.Response.Headers;
        _security.Apply(response, context.Request.IsHttps);
        _cors?.Apply(context.Request.Headers.Origin, response);
    }

    /// <summary>The value of one of the app's Set-Cookie headers, with the attributes it lacks.</summary>
    public string HardenCookie(ReadOnlySpan<byte> setCookie, HttpContext context) => _cookies.Harden(setCookie, context.Request.IsHttps);

    /// <summary>
    /// Answers a CORS preflight without a worker: 204 with the Access-Control-* headers when allowed, a
    /// bare 403 when not. Returns false for every other request, and for all of them when CORS is off.
    /// </summary>
    public bool TryAnswerPreflight(HttpContext context)
    {
        if (_cors is null || !HttpMethods.IsOptions(context.Request.Method))
        {
            return false;
        }

        var result = _cors.Preflight(context.Request.Headers, context.Response.Headers);
        if (result == PreflightResult.NotPreflight)
        {
            return false;
        }

        context.Response.StatusCode = result == PreflightResult.Allowed ? StatusCodes.Status204NoContent : StatusCodes.Status403Forbidden;
        context.Response.ContentLength = result == PreflightResult.Allowed ? null : 0;
        _security.Apply(context.Response.Headers, context.Request.IsHttps);
        return true;
    }
}

using System.Globalization;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace Tapster.Edge.Headers;

/// <summary>
/// <see cref="CorsSettings"/> as the Fetch standard's CORS protocol: preflights answered here, and the
/// Access-Control-* headers of allowed origins' actual requests. Every header value is made once.
/// </summary>
internal sealed class CorsPolicy
{
    private static readonly StringValues Any = "*";
    private static readonly StringValues True = "true";
    private const string VaryOrigin = "Origin";

    private readonly string[] _origins;
    private readonly bool _anyOrigin;
    private readonly string[] _methods;
    private readonly string[] _headers;
    private readonly bool _anyHeader;
    private readonly bool _credentials;
    private readonly StringValues _allowMethods;
    private readonly StringValues _allowHeaders;
    private readonly StringValues _exposeHeaders;
    private readonly StringValues _maxAge;

    public CorsPolicy(CorsSettings settings)
    {
        _origins = [.. settings.AllowOrigins.Where(o => o != "*")];
        _anyOrigin = settings.AllowOrigins.Contains("*") && !settings.AllowCredentials;
        _methods = [.. settings.AllowMethods];
        _headers = [.. settings.AllowHeaders.Where(h => h != "*")];
        _anyHeader = settings.AllowHeaders.Contains("*");
        _credentials = settings.AllowCredentials;
        _allowMethods = Joined(settings.AllowMethods);
        _allowHeaders = _anyHeader ? Any : Joined(_headers);
        _exposeHeaders = Joined(settings.ExposeHeaders);
        _maxAge = ((long)settings.MaxAge.TotalSeconds).ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>An origin as browsers serialize it (RFC 6454 6.2): lower-case scheme://host[:port], nothing else.</summary>
    public static bool IsOrigin(string text) =>
        Uri.TryCreate(text, UriKind.Absolute, out var uri)
        && uri.UserInfo.Length == 0
        && uri.GetLeftPart(UriPartial.Authority) == text
        && !text.Any(char.IsAsciiLetterUpper);

    /// <summary>Answers an OPTIONS request with Origin and Access-Control-Request-Method; other requests are the app's.</summary>
    public PreflightResult Preflight(IHeaderDictionary request, IHeaderDictionary response)
    {
        var origin = request.Origin;
        var method = request.AccessControlRequestMethod;
        if (origin.Count != 1 || method.Count != 1)
        {
            return PreflightResult.NotPreflight;
        }

        var allowOrigin = AllowOrigin(origin);
        // Methods are case-sensitive (RFC 9110 9.1), and browsers compare them so: "patch" is not "PATCH".
        if (allowOrigin.Count == 0 || !Contains(_methods, method.ToString(), StringComparison.Ordinal) || !HeadersAllowed(request.AccessControlRequestHeaders))
        {
            return PreflightResult.Refused;
        }

        AddOriginHeaders(response, allowOrigin);
        response.AccessControlAllowMethods = _allowMethods;
        if (_allowHeaders.Count > 0)
        {
            response.AccessControlAllowHeaders = _allowHeaders;
        }

        response.AccessControlMaxAge = _maxAge;
        return PreflightResult.Allowed;
    }

    /// <summary>Adds the CORS headers of an actual (non-preflight) response, unless the app does CORS itself.</summary>
    public void Apply(StringValues origin, IHeaderDictionary response)
    {
        if (response.ContainsKey("Access-Control-Allow-Origin"))
        {
            return;
        }

        var allowOrigin = origin.Count == 1 ? AllowOrigin(origin) : default;
        if (allowOrigin.Count == 0)
        {
            if (!_anyOrigin)
            {
                // The answer depends on Origin even when it has none: a cache must not serve it to an allowed origin.
                VaryHeader.Add(response, VaryOrigin);
            }

            return;
        }

        AddOriginHeaders(response, allowOrigin);
        if (_exposeHeaders.Count > 0)
        {
            response.AccessControlExposeHeaders = _exposeHeaders;
        }
    }

    /// <summary>Access-Control-Allow-Origin for a request's Origin: "*", the origin itself, or nothing when not allowed.</summary>
    private StringValues AllowOrigin(StringValues origin) =>
        _anyOrigin ? Any : Contains(_origins, origin.ToString(), StringComparison.Ordinal) ? origin : default;

    /// <summary>Every name of Access-Control-Request-Headers (a comma-separated list) must be allowed.</summary>
    private bool HeadersAllowed(StringValues requested)
    {
        if (_anyHeader)
        {
            return true;
        }

        foreach (var line in requested)
        {
            foreach (var range in line.AsSpan().Split(','))
            {
                var name = line.AsSpan()[range].Trim();
                if (name.Length > 0 && !Contains(_headers, name))
                {
                    return false;
                }
            }
        }

        return true;
    }

    private void AddOriginHeaders(IHeaderDictionary response, StringValues allowOrigin)
    {
        response.AccessControlAllowOrigin = allowOrigin;
        if (!_anyOrigin)
        {
            VaryHeader.Add(response, VaryOrigin);
        }

        if (_credentials)
        {
            response.AccessControlAllowCredentials = True;
        }
    }

    private static bool Contains(string[] allowed, ReadOnlySpan<char> value, StringComparison comparison = StringComparison.OrdinalIgnoreCase)
    {
        foreach (var item in allowed)
        {
            if (value.Equals(item, comparison))
            {
                return true;
            }
        }

        return false;
    }

    private static StringValues Joined(IEnumerable<string> names) => string.Join(", ", names) is { Length: > 0 } joined ? joined : default;
}

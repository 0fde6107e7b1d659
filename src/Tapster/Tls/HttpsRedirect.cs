using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Tapster.Edge;
using Tapster.Edge.Headers;

namespace Tapster.Tls;

/// <summary>
/// With TLS on, a plain-HTTP request is sent to the same URL over HTTPS (308 keeps the method and body).
/// ACME HTTP-01 challenges stay on plain HTTP: a CA fetches them there, before any certificate exists.
/// </summary>
internal sealed class HttpsRedirect(int httpsPort, HeaderPolicy headers)
{
    private const string AcmeChallenge = "/.well-known/acme-challenge";

    public RequestDelegate Wrap(RequestDelegate app) => context =>
    {
        var request = context.Request;
        if (request.IsHttps || IsAcmeChallenge(context))
        {
            return app(context);
        }

        context.Response.StatusCode = StatusCodes.Status308PermanentRedirect;
        context.Response.Headers.Location = Location(request.Host, context.Connection.LocalIpAddress?.ToString(), Target(context));
        headers.Apply(context);
        return Task.CompletedTask;
    };

    /// <summary>The HTTPS URL: the Host header's name without its port (the connection's address when absent), and the TLS port unless 443.</summary>
    public string Location(HostString host, string? localAddress, string target)
    {
        var name = host.HasValue ? host.Host : localAddress ?? "localhost";
        if (name.Contains(':', StringComparison.Ordinal) && !name.StartsWith('['))
        {
            name = $"[{name}]";
        }

        var authority = httpsPort == 443 ? name : $"{name}:{httpsPort}";
        return $"https://{authority}{target}";
    }

    /// <summary>
    /// A challenge path as the app would route it too: Kestrel resolves dot segments, the app does not,
    /// so <c>/admin/../.well-known/acme-challenge/x</c> must not pass as one and reach <c>/admin</c> over plain HTTP.
    /// </summary>
    private static bool IsAcmeChallenge(HttpContext context) =>
        context.Request.Path.StartsWithSegments(AcmeChallenge, StringComparison.Ordinal)
        && new PathString(RoutedPath.Of(context)).StartsWithSegments(AcmeChallenge, StringComparison.Ordinal);

    /// <summary>
    /// The request target as the client sent it (visible ASCII only: the framing guard refused the rest),
    /// so the redirect keeps the very same path; Kestrel's form when it came absolute.
    /// </summary>
    private static string Target(HttpContext context) =>
        context.Features.Get<IHttpRequestFeature>()?.RawTarget is { } raw && raw.StartsWith('/')
            ? raw
            : $"{(context.Request.PathBase + context.Request.Path).ToUriComponent()}{context.Request.QueryString.ToUriComponent()}";
}

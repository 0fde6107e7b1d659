using Microsoft.AspNetCore.Http;
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
        if (request.IsHttps || request.Path.StartsWithSegments(AcmeChallenge, StringComparison.Ordinal))
        {
            return app(context);
        }

        context.Response.StatusCode = StatusCodes.Status308PermanentRedirect;
        context.Response.Headers.Location = Location(request.Host, context.Connection.LocalIpAddress?.ToString(), request.PathBase + request.Path, request.QueryString);
        headers.Apply(context);
        return Task.CompletedTask;
    };

    /// <summary>The HTTPS URL: the Host header's name without its port (the connection's address when absent), and the TLS port unless 443.</summary>
    public string Location(HostString host, string? localAddress, PathString path, QueryString query)
    {
        var name = host.HasValue ? host.Host : localAddress ?? "localhost";
        if (name.Contains(':', StringComparison.Ordinal) && !name.StartsWith('['))
        {
            name = $"[{name}]";
        }

        var authority = httpsPort == 443 ? name : $"{name}:{httpsPort}";
        return $"https://{authority}{path.ToUriComponent()}{query.ToUriComponent()}";
    }
}

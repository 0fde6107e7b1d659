using System.Collections.Concurrent;
using Microsoft.AspNetCore.Http;

namespace Tapster.Tls.Acme;

/// <summary>
/// Answers HTTP-01 challenges (RFC 8555 8.3): GET /.well-known/acme-challenge/TOKEN gives the key
/// authorization while an order waits for it. In front of the HTTPS redirect, static files and the
/// app, so none of them can shadow it; any other path, or a token nobody waits for, passes through.
/// </summary>
internal sealed class Http01Responder
{
    private const string Prefix = "/.well-known/acme-challenge/";

    private readonly ConcurrentDictionary<string, string> _keyAuthorizations = new(StringComparer.Ordinal);

    public void Add(string token, string keyAuthorization) => _keyAuthorizations[token] = keyAuthorization;

    public void Remove(string token) => _keyAuthorizations.TryRemove(token, out _);

    public RequestDelegate Wrap(RequestDelegate next) => context =>
    {
        var path = context.Request.Path.Value;
        if (path is not null && path.StartsWith(Prefix, StringComparison.Ordinal)
            && (HttpMethods.IsGet(context.Request.Method) || HttpMethods.IsHead(context.Request.Method))
            && _keyAuthorizations.TryGetValue(path[Prefix.Length..], out var keyAuthorization))
        {
            context.Response.StatusCode = StatusCodes.Status200OK;
            context.Response.ContentType = "application/octet-stream";
            return context.Response.WriteAsync(keyAuthorization, context.RequestAborted);
        }

        return next(context);
    };
}

using System.Globalization;
using System.Net;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace Tapster.Edge.Proxy;

/// <summary>
/// Behind a load balancer: <c>X-Forwarded-For/-Proto/-Host</c>, or <c>Forwarded</c> (RFC 7239) when
/// there is no X-Forwarded-For, are believed only when the connection comes from a trusted proxy. The
/// X- headers come first because nearly every proxy sets them (nginx, HAProxy, AWS ALB, Envoy), and
/// most of those pass a client's own <c>Forwarded</c> header through untouched: preferring it let any
/// client name its own address, host and scheme. The header not used is removed. Then the hops are walked from the
/// right, as long as each one was itself added by a trusted proxy, and the first untrusted address is
/// the client: REMOTE_ADDR, wsgi.url_scheme and HTTP_HOST then describe it. From anyone else those
/// headers (and X-Real-IP) are removed, so no app or library can be fooled by them.
/// </summary>
internal sealed class ForwardedHeaders(TrustedProxies trusted)
{
    /// <summary>Headers a client could forge to claim another address, scheme or host.</summary>
    private static readonly string[] ClientClaims =
        ["Forwarded", "X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host", "X-Forwarded-Port", "X-Forwarded-Prefix", "X-Real-IP"];

    /// <summary>What a proxy speaking <c>Forwarded</c> did not write: a client's, passed through.</summary>
    private static readonly string[] XForwardedFamily = ["X-Forwarded-Proto", "X-Forwarded-Host", "X-Forwarded-Port", "X-Forwarded-Prefix"];

    public RequestDelegate Wrap(RequestDelegate next) => context =>
    {
        Apply(context);
        return next(context);
    };

    internal void Apply(HttpContext context)
    {
        var headers = context.Request.Headers;
        if (!trusted.TrustsPeer(context.Connection.RemoteIpAddress))
        {
            foreach (var name in ClientClaims)
            {
                headers.Remove(name);
            }

            return;
        }

        List<ForwardedHop> hops;
        if (headers.ContainsKey("X-Forwarded-For") || !headers.TryGetValue("Forwarded", out var forwarded))
        {
            // Without X-Forwarded-For (a proxy that sets only X-Forwarded-Proto, as many nginx setups
            // do) the trusted peer is the nearest hop, and its scheme and host still count, as in Gunicorn.
            var forwardedFor = headers["X-Forwarded-For"];
            if (StringValues.IsNullOrEmpty(forwardedFor) && context.Connection.RemoteIpAddress is { } peer)
            {
                forwardedFor = new IPEndPoint(peer, context.Connection.RemotePort).ToString();
            }

            hops = ParseXForwarded(forwardedFor, headers["X-Forwarded-Proto"], headers["X-Forwarded-Host"]);
            headers.Remove("Forwarded");
        }
        else
        {
            hops = ParseForwarded(forwarded);
            foreach (var name in XForwardedFamily)
            {
                headers.Remove(name);
            }

            // "Forwarded: proto=https" alone: as with X-Forwarded-Proto alone, the peer is that hop.
            if (hops is [.., { For: null } nearest] && context.Connection.RemoteIpAddress is { } peer)
            {
                hops[^1] = nearest with { For = peer, Port = context.Connection.RemotePort };
            }
        }

        if (Resolve(hops, trusted) is not { } client)
        {
            return;
        }

        context.Connection.RemoteIpAddress = client.For;
        context.Connection.RemotePort = client.Port;
        if (client.Proto is { } proto)
        {
            context.Request.Scheme = proto;
        }

        if (client.Host is { } host)
        {
            context.Request.Host = new HostString(host);
        }
    }

    /// <summary>
    /// Walks the hops from the nearest proxy back towards the client while the address it names is one
    /// of ours; returns the client's hop, with the scheme and host of the outermost proxy that gave them.
    /// Null when the nearest proxy named no usable address.
    /// </summary>
    internal static ForwardedHop? Resolve(IReadOnlyList<ForwardedHop> hops, TrustedProxies trusted)
    {
        ForwardedHop? client = null;
        string? proto = null, host = null;
        for (var i = hops.Count - 1; i >= 0; i--)
        {
            var hop = hops[i];
            if (hop.For is null)
            {
                break;
            }

            proto = hop.Proto ?? proto;
            host = hop.Host ?? host;
            client = hop with { Proto = proto, Host = host };
            if (!trusted.Contains(hop.For))
            {
                break;
            }
        }

        return client;
    }

    /// <summary>RFC 7239: comma-separated elements of semicolon-separated for=, proto=, host= (by= is ignored); values may be quoted.</summary>
    internal static List<ForwardedHop> ParseForwarded(StringValues values)
    {
        var hops = new List<ForwardedHop>();
        foreach (var value in values)
        {
            foreach (var element in SplitOutsideQuotes(value ?? "", ','))
            {
                IPAddress? address = null;
                int port = 0;
                string? proto = null, host = null;
                foreach (var pair in SplitOutsideQuotes(element, ';'))
                {
                    var equals = pair.IndexOf('=', StringComparison.Ordinal);
                    if (equals <= 0)
                    {
                        continue;
                    }

                    var name = pair[..equals].Trim();
                    var text = Unquote(pair[(equals + 1)..].Trim());
                    if (name.Equals("for", StringComparison.OrdinalIgnoreCase))
                    {
                        (address, port) = ParseNode(text);
                    }
                    else if (name.Equals("proto", StringComparison.OrdinalIgnoreCase))
                    {
                        proto = Scheme(text);
                    }
                    else if (name.Equals("host", StringComparison.OrdinalIgnoreCase))
                    {
                        host = IsHost(text) ? text : null;
                    }
                }

                hops.Add(new ForwardedHop(address, port, proto, host));
            }
        }

        return hops;
    }

    /// <summary>
    /// X-Forwarded-For lists addresses; -Proto and -Host are matched to them from the right, so a single
    /// value (one proxy that sets rather than appends) belongs to the nearest proxy.
    /// </summary>
    internal static List<ForwardedHop> ParseXForwarded(StringValues forwardedFor, StringValues protos, StringValues hosts)
    {
        var addresses = Items(forwardedFor);
        var schemes = Items(protos);
        var names = Items(hosts);
        var hops = new List<ForwardedHop>(addresses.Count);
        for (var i = 0; i < addresses.Count; i++)
        {
            var fromRight = addresses.Count - 1 - i;
            var (address, port) = ParseNode(addresses[i]);
            var proto = fromRight < schemes.Count ? Scheme(schemes[schemes.Count - 1 - fromRight]) : null;
            var host = fromRight < names.Count && IsHost(names[names.Count - 1 - fromRight]) ? names[names.Count - 1 - fromRight] : null;
            hops.Add(new ForwardedHop(address, port, proto, host));
        }

        return hops;
    }

    /// <summary>An address as proxies write it: 192.0.2.1, 192.0.2.1:4711, [2001:db8::1]:4711, 2001:db8::1; anything else is null.</summary>
    internal static (IPAddress? Address, int Port) ParseNode(string text)
    {
        text = text.Trim();
        var port = 0;
        if (text.StartsWith('['))
        {
            var close = text.IndexOf(']', StringComparison.Ordinal);
            if (close < 0 || (close + 1 < text.Length && (text[close + 1] != ':' || !TryPort(text.AsSpan(close + 2), out port))))
            {
                return (null, 0);
            }

            text = text[1..close];
        }
        else if (text.Count(c => c == ':') == 1)
        {
            var colon = text.IndexOf(':', StringComparison.Ordinal);
            if (!TryPort(text.AsSpan(colon + 1), out port))
            {
                return (null, 0);
            }

            text = text[..colon];
        }

        // IPv4 only in its canonical dotted-decimal form: IPAddress.TryParse also reads inet_aton's octal,
        // hexadecimal and short forms (0177.0.0.1 is 127.0.0.1), which nginx's realip module and most
        // other readers of the same header do not.
        return IPAddress.TryParse(text, out var address)
            && (text.Contains(':', StringComparison.Ordinal) || address.ToString() == text)
            ? (address, port)
            : (null, 0);
    }

    private static bool TryPort(ReadOnlySpan<char> text, out int port) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out port) && port is > 0 and <= 65535;

    private static string? Scheme(string text) =>
        text.Trim().ToLowerInvariant() is "http" or "https" ? text.Trim().ToLowerInvariant() : null;

    /// <summary>A host name or address with an optional port: what a Host header may hold, nothing that could smuggle more.</summary>
    internal static bool IsHost(string text)
    {
        text = text.Trim();
        if (text.Length is 0 or > 255)
        {
            return false;
        }

        foreach (var c in text)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or ':' or '[' or ']'))
            {
                return false;
            }
        }

        return true;
    }

    private static List<string> Items(StringValues values)
    {
        var items = new List<string>();
        foreach (var value in values)
        {
            foreach (var item in (value ?? "").Split(',', StringSplitOptions.TrimEntries))
            {
                items.Add(item);
            }
        }

        return items;
    }

    private static IEnumerable<string> SplitOutsideQuotes(string text, char separator)
    {
        var start = 0;
        var quoted = false;
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] == '"')
            {
                quoted = !quoted;
            }
            else if (text[i] == '\\' && quoted)
            {
                i++;
            }
            else if (text[i] == separator && !quoted)
            {
                yield return text[start..i].Trim();
                start = i + 1;
            }
        }

        yield return text[start..].Trim();
    }

    private static string Unquote(string text) =>
        text.Length >= 2 && text[0] == '"' && text[^1] == '"' ? text[1..^1].Replace("\\\"", "\"", StringComparison.Ordinal).Replace("\\\\", "\\", StringComparison.Ordinal) : text;
}

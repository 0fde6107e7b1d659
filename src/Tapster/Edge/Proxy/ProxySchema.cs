using System.Net;
using Tapster.Configuration;

namespace Tapster.Edge.Proxy;

/// <summary>The <c>[proxy]</c> entries of <see cref="SettingsSchema"/>.</summary>
internal static class ProxySchema
{
    // The parser comes first: static initializers run in order, and Settings uses it.
    private static ValueParser<TrustedProxies> Trusted { get; } = new()
    {
        TypeName = "list of addresses or CIDR networks, or \"unix\"",
        HelpName = "CIDR",
        Shape = CliShape.List,
        FromText = text => ParseAll(ValueParsers.TextList.FromText(text)),
        FromToml = (value, directory) => ParseAll(ValueParsers.TextList.FromToml(value, directory)),
        Format = trusted => ValueParsers.TextList.Format(trusted.Describe()),
    };

    public static IReadOnlyList<Setting> Settings { get; } =
    [
        new TypedSetting<TrustedProxies>
        {
            Key = "proxy.trusted", Flag = "--forwarded-allow-ips", Placeholder = "CIDR", Parser = Trusted,
            Doc = "Load balancers and proxies whose word about the client is believed: addresses or CIDR networks (\"10.0.0.0/8\", \"192.168.1.7\", \"2001:db8::/32\"; \"*\" for all, only where nothing else can reach Tapster), and \"unix\" for whatever connects to a unix:PATH listener (a proxy on this machine). From them, X-Forwarded-For/-Proto/-Host, or else Forwarded (RFC 7239), set REMOTE_ADDR, wsgi.url_scheme and HTTP_HOST; from anyone else these headers and X-Real-IP are removed before the app sees the request. Gunicorn's forwarded_allow_ips, but empty by default: Gunicorn trusts 127.0.0.1, which lets any local process forge a client. The flag repeats; its environment twin is comma-separated.",
            DefaultDoc = "`[]` (trust no one)",
            Get = s => s.Proxy.Trusted, Set = (s, v) => s with { Proxy = s.Proxy with { Trusted = v } },
        },
        new TypedSetting<IReadOnlyList<string>>
        {
            Key = "proxy.protocol", Flag = "--proxy-protocol", Placeholder = "HOST:PORT", Parser = ValueParsers.TextList,
            Doc = "Listeners (addresses exactly as in http.listen or tls.listen) where every connection opens with a PROXY protocol header, v1 or v2 (HAProxy, AWS NLB, ...). Connections there must come from proxy.trusted and send the header within limits.header_timeout, or they are closed; the header's source address is then the client's. The flag repeats; its environment twin is comma-separated.",
            DefaultDoc = "`[]`",
            CheckTogether = CheckProtocolListeners,
            Get = s => s.Proxy.ProtocolListeners, Set = (s, v) => s with { Proxy = s.Proxy with { ProtocolListeners = v } },
        },
    ];

    private static Parsed<TrustedProxies> ParseAll(Parsed<IReadOnlyList<string>> texts) =>
        texts.Error is not null ? Parsed<TrustedProxies>.Fail(texts.Error)
        : TrustedProxies.ParseAll(texts.Value, out var error) is { } trusted ? Parsed<TrustedProxies>.Ok(trusted)
        : Parsed<TrustedProxies>.Fail(error!);

    private static string? CheckProtocolListeners(ServeSettings settings)
    {
        if (settings.Proxy.ProtocolListeners.Count == 0)
        {
            return null;
        }

        if (settings.Proxy.Trusted.IsEmpty)
        {
            return "needs proxy.trusted (--forwarded-allow-ips): the addresses of the proxies allowed to send PROXY headers";
        }

        var listeners = settings.Bind.Concat(settings.Tls.Listen).ToList();
        var unknown = settings.Proxy.ProtocolListeners.FirstOrDefault(address => !listeners.Contains(address, StringComparer.Ordinal));
        return unknown is null ? null : $"'{unknown}' is not one of the listeners ({string.Join(", ", listeners)})";
    }
}

namespace Tapster.Edge.Proxy;

/// <summary>
/// <c>[proxy]</c>: who may say who the client is. Nobody by default (Gunicorn trusts 127.0.0.1): with
/// Tapster at the edge there is no local proxy, and any local process could then forge a client address.
/// </summary>
internal sealed record ProxySettings
{
    /// <summary>Peers whose Forwarded / X-Forwarded-* headers and PROXY protocol headers are believed.</summary>
    public TrustedProxies Trusted { get; init; } = TrustedProxies.None;

    /// <summary>Listen addresses (as in http.listen or tls.listen) whose connections start with a PROXY protocol header.</summary>
    public IReadOnlyList<string> ProtocolListeners { get; init; } = [];
}

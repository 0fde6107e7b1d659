using System.Net;

namespace Tapster.Edge.Proxy;

/// <summary>
/// What one proxy said about the connection it received: the peer's address (null when it was not an
/// address: "unknown", an obfuscated name, garbage) and, if it said so, the scheme and Host it saw.
/// </summary>
internal readonly record struct ForwardedHop(IPAddress? For, int Port, string? Proto, string? Host);

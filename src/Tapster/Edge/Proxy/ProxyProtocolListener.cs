using System.Net;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Logging;

namespace Tapster.Edge.Proxy;

/// <summary>
/// A listener behind a balancer that speaks the PROXY protocol: each connection must come from a trusted
/// proxy and open with a valid header within the header timeout, or it is closed before a byte of HTTP
/// or TLS is read. The header's source address then is the connection's remote address for everything
/// after it: the access log, REMOTE_ADDR, rate limits and the X-Forwarded-* trust check.
/// </summary>
internal sealed partial class ProxyProtocolListener(TrustedProxies trusted, TimeSpan headerTimeout, ILogger<ProxyProtocolListener> logger)
{
    /// <summary>Adds the header reader in front of everything else on <paramref name="listen"/> (call before TLS).</summary>
    public void Configure(ListenOptions listen) => listen.Use(next => connection => AcceptAsync(connection, next));

    private async Task AcceptAsync(ConnectionContext connection, ConnectionDelegate next)
    {
        // A peer on a Unix socket has no address.
        var peer = (connection.RemoteEndPoint as IPEndPoint)?.Address;
        var peerName = peer?.ToString() ?? "a Unix socket client";
        if (!trusted.TrustsPeer(peer))
        {
            LogRefused(logger, peerName, "not a trusted proxy (proxy.trusted)");
            connection.Abort();
            return;
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(connection.ConnectionClosed);
        timeout.CancelAfter(headerTimeout);
        IPEndPoint? source;
        try
        {
            source = await ReadHeaderAsync(connection, timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            LogRefused(logger, peerName, "no PROXY protocol header within limits.header_timeout");
            connection.Abort();
            return;
        }
        catch (InvalidDataException e)
        {
            LogRefused(logger, peerName, e.Message);
            connection.Abort();
            return;
        }

        if (source is not null)
        {
            connection.RemoteEndPoint = source;
        }

        await next(connection).ConfigureAwait(false);
    }

    /// <summary>Consumes exactly the header, leaving what follows for HTTP or TLS.</summary>
    private static async Task<IPEndPoint?> ReadHeaderAsync(ConnectionContext connection, CancellationToken cancellation)
    {
        var input = connection.Transport.Input;
        while (true)
        {
            var result = await input.ReadAsync(cancellation).ConfigureAwait(false);
            var buffer = result.Buffer;
            switch (ProxyProtocolHeader.TryParse(buffer, out var length, out var source, out var error))
            {
                case ProxyParse.Complete:
                    input.AdvanceTo(buffer.GetPosition(length));
                    return source;
                case ProxyParse.Invalid:
                    input.AdvanceTo(buffer.Start);
                    throw new InvalidDataException(error);
                default:
                    input.AdvanceTo(buffer.Start, buffer.End);
                    if (result.IsCompleted)
                    {
                        throw new InvalidDataException("the connection closed inside the PROXY protocol header");
                    }

                    break;
            }
        }
    }

    [LoggerMessage(EventId = 410, EventName = "proxy_protocol.refused", Level = LogLevel.Warning, Message = "Connection from {Peer} closed: {Reason}")]
    private static partial void LogRefused(ILogger logger, string peer, string reason);
}

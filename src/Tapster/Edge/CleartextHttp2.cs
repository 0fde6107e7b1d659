using System.Buffers;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Tapster.Edge;

/// <summary>
/// HTTP/2 with prior knowledge (h2c, RFC 9113 3.3) beside HTTP/1.1 on the same cleartext port.
/// Kestrel picks one protocol per endpoint without TLS, so each public endpoint serves HTTP/1.1 and
/// peeks at a new connection's first bytes: a client that opens with the HTTP/2 preface is handed to
/// the HTTP/2 pipeline of a private endpoint (a Unix socket nobody connects to), whose pipeline is
/// borrowed as-is. The connection itself, with its addresses, stays the same.
/// </summary>
/// <param name="headerTimeout">How long a new connection may take to send its first bytes: the peek
/// runs before Kestrel's own timers, so without it a connection that sends nothing stayed open forever.</param>
internal sealed class CleartextHttp2(TimeSpan headerTimeout)
{
    private static readonly byte[] Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8.ToArray();

    private ConnectionDelegate? _http2;

    /// <summary>Configures the private endpoint whose HTTP/2 pipeline is borrowed.</summary>
    public void ConfigureDonor(ListenOptions donor)
    {
        donor.Protocols = HttpProtocols.Http2;
        donor.Use(next =>
        {
            _http2 = next;
            return next;
        });
    }

    /// <summary>Adds preface detection in front of a public endpoint's HTTP/1.1 pipeline.</summary>
    public void ConfigurePublic(ListenOptions endpoint)
    {
        endpoint.Protocols = HttpProtocols.Http1;
        endpoint.Use(http1 => connection => RouteAsync(connection, http1));
    }

    private async Task RouteAsync(ConnectionContext connection, ConnectionDelegate http1)
    {
        var http2 = _http2;
        bool isHttp2;
        try
        {
            isHttp2 = http2 is not null && await StartsWithPrefaceAsync(connection).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or ConnectionResetException or IOException)
        {
            // Closed before a byte came (a TCP health check, a port scan, the end of a load test), or
            // silent past the header timeout (a slowloris holding connections open): nothing to
            // answer, and nothing wrong with the server; the connection is closed.
            return;
        }

        if (isHttp2 && http2 is not null)
        {
            await http2(connection).ConfigureAwait(false);
            return;
        }

        await http1(connection).ConfigureAwait(false);
    }

    /// <summary>Reads just enough to tell, consuming nothing: the chosen pipeline reads the same bytes.</summary>
    private async ValueTask<bool> StartsWithPrefaceAsync(ConnectionContext connection)
    {
        var input = connection.Transport.Input;
        using var silence = CancellationTokenSource.CreateLinkedTokenSource(connection.ConnectionClosed);
        silence.CancelAfter(headerTimeout);
        while (true)
        {
            var result = await input.ReadAsync(silence.Token).ConfigureAwait(false);
            var buffer = result.Buffer;
            var length = (int)Math.Min(buffer.Length, Preface.Length);
            var matches = PrefixMatches(buffer.Slice(0, length));
            var decided = !matches || length == Preface.Length || result.IsCompleted;
            input.AdvanceTo(buffer.Start, decided ? buffer.Start : buffer.End);
            if (decided)
            {
                return matches && length == Preface.Length;
            }
        }
    }

    private static bool PrefixMatches(ReadOnlySequence<byte> start)
    {
        Span<byte> head = stackalloc byte[Preface.Length];
        start.CopyTo(head);
        return head[..(int)start.Length].SequenceEqual(Preface.AsSpan(0, (int)start.Length));
    }
}

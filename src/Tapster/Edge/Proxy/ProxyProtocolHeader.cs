using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Text;

namespace Tapster.Edge.Proxy;

/// <summary>
/// Reads the PROXY protocol header (HAProxy's spec, versions 1 and 2) a load balancer sends before the
/// first byte of HTTP or TLS. Strict: a header that is not exactly right is refused, since what follows
/// it would be read out of step.
/// </summary>
internal static class ProxyProtocolHeader
{
    /// <summary>v1's longest line: "PROXY TCP6 " + two full IPv6 addresses and ports + CRLF.</summary>
    public const int MaxV1Length = 107;

    /// <summary>v2 addresses plus TLVs; the spec allows 64 KiB, no balancer sends more than a few hundred bytes.</summary>
    public const int MaxV2Length = 16 + 4096;

    private static readonly byte[] V2Signature = [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A];

    private static ReadOnlySpan<byte> V1Prefix => "PROXY "u8;

    /// <summary>
    /// Parses the start of <paramref name="buffer"/>: <see cref="ProxyParse.Incomplete"/> until the whole
    /// header is there, then the header's length and the client's address (null for v1 UNKNOWN and v2
    /// LOCAL: a balancer's own health check, which keeps the connection's addresses).
    /// </summary>
    public static ProxyParse TryParse(ReadOnlySequence<byte> buffer, out int length, out IPEndPoint? source, out string? error)
    {
        length = 0;
        source = null;
        error = null;
        Span<byte> head = stackalloc byte[16];
        var available = (int)Math.Min(buffer.Length, head.Length);
        buffer.Slice(0, available).CopyTo(head);
        head = head[..available];
        if (StartsLike(head, V2Signature))
        {
            return available < 16 ? ProxyParse.Incomplete : ParseV2(buffer, head, out length, out source, out error);
        }

        if (StartsLike(head, V1Prefix))
        {
            return available < V1Prefix.Length ? ProxyParse.Incomplete : ParseV1(buffer, out length, out source, out error);
        }

        error = "the connection did not start with a PROXY protocol header";
        return ProxyParse.Invalid;
    }

    private static bool StartsLike(ReadOnlySpan<byte> head, ReadOnlySpan<byte> prefix) =>
        head[..Math.Min(head.Length, prefix.Length)].SequenceEqual(prefix[..Math.Min(head.Length, prefix.Length)]);

    private static ProxyParse ParseV1(ReadOnlySequence<byte> buffer, out int length, out IPEndPoint? source, out string? error)
    {
        length = 0;
        source = null;
        error = null;
        var window = buffer.Slice(0, Math.Min(buffer.Length, MaxV1Length));
        if (window.PositionOf((byte)'\n') is not { } newline)
        {
            if (window.Length < MaxV1Length)
            {
                return ProxyParse.Incomplete;
            }

            error = $"PROXY v1 line longer than {MaxV1Length} bytes";
            return ProxyParse.Invalid;
        }

        var line = Encoding.ASCII.GetString(window.Slice(0, newline));
        length = line.Length + 1;
        if (!line.EndsWith('\r'))
        {
            error = "PROXY v1 line does not end with CRLF";
            return ProxyParse.Invalid;
        }

        var parts = line[..^1].Split(' ');
        if (parts.Length >= 2 && parts[1] == "UNKNOWN")
        {
            return ProxyParse.Complete;
        }

        if (parts.Length != 6 || parts[1] is not ("TCP4" or "TCP6")
            || !IPAddress.TryParse(parts[2], out var address) || !IPAddress.TryParse(parts[3], out var destination)
            || (parts[1] == "TCP4") != (address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork)
            || address.AddressFamily != destination.AddressFamily
            || !TryPort(parts[4], out var port) || !TryPort(parts[5], out _))
        {
            error = "malformed PROXY v1 line (expected PROXY TCP4|TCP6 SRC DST SPORT DPORT)";
            return ProxyParse.Invalid;
        }

        source = new IPEndPoint(address, port);
        return ProxyParse.Complete;
    }

    /// <summary>Ports as decimal without leading zeros, as the spec writes them.</summary>
    private static bool TryPort(string text, out int port) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out port) && port <= 65535
            && (text.Length == 1 || text[0] != '0');

    private static ProxyParse ParseV2(ReadOnlySequence<byte> buffer, ReadOnlySpan<byte> head, out int length, out IPEndPoint? source, out string? error)
    {
        length = 0;
        source = null;
        error = null;
        var version = head[12] >> 4;
        var command = head[12] & 0x0F;
        var family = head[13];
        var payload = BinaryPrimitives.ReadUInt16BigEndian(head[14..]);
        if (version != 2 || command > 1)
        {
            error = $"PROXY v2 header with version {version} and command {command} (expected version 2, LOCAL or PROXY)";
            return ProxyParse.Invalid;
        }

        if (16 + payload > MaxV2Length)
        {
            error = $"PROXY v2 header of {16 + payload} bytes (at most {MaxV2Length})";
            return ProxyParse.Invalid;
        }

        if (buffer.Length < 16 + payload)
        {
            return ProxyParse.Incomplete;
        }

        length = 16 + payload;
        if (command == 0)
        {
            return ProxyParse.Complete; // LOCAL: the balancer speaking for itself
        }

        Span<byte> addresses = stackalloc byte[36];
        var needed = family switch
        {
            0x11 => 12, // TCP over IPv4: source, destination, source port, destination port
            0x21 => 36, // TCP over IPv6
            _ => -1,
        };
        if (needed < 0)
        {
            // UNSPEC, UDP or Unix sockets: nothing an HTTP client's address can be taken from.
            return family >> 4 == 0 ? ProxyParse.Complete : Fail(out error, $"PROXY v2 address family 0x{family:X2} is not TCP");
        }

        if (payload < needed)
        {
            error = $"PROXY v2 header too short for its addresses ({payload} bytes, needs {needed})";
            return ProxyParse.Invalid;
        }

        buffer.Slice(16, needed).CopyTo(addresses);
        var size = needed == 12 ? 4 : 16;
        source = new IPEndPoint(new IPAddress(addresses[..size]), BinaryPrimitives.ReadUInt16BigEndian(addresses[(2 * size)..]));
        return ProxyParse.Complete;
    }

    private static ProxyParse Fail(out string? error, string message)
    {
        error = message;
        return ProxyParse.Invalid;
    }
}

internal enum ProxyParse
{
    Incomplete,
    Complete,
    Invalid,
}

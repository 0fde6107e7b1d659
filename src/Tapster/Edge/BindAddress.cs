using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.AspNetCore.Connections;

namespace Tapster.Edge;

/// <summary>
/// A --bind value: <c>HOST:PORT</c>, <c>[IPv6]:PORT</c>, <c>:PORT</c> (all interfaces), <c>localhost:PORT</c>,
/// <c>unix:/ABSOLUTE/PATH</c> (a Unix socket, for a proxy on the same machine), or <c>fd://N</c> (a
/// listening socket Tapster was started with: systemd socket activation).
/// </summary>
internal static class BindAddress
{
    private const int SolSocket = 1;
    private const int SoReuseAddr = 2;
    private const string UnixPrefix = "unix:";
    private const string FdPrefix = "fd://";

    /// <summary>sun_path holds 108 bytes, the terminating NUL included.</summary>
    private const int MaxUnixPathBytes = 107;

    public static bool TryParse(string text, out EndPoint? endPoint, out string? error)
    {
        endPoint = null;
        error = null;
        if (text.StartsWith(UnixPrefix, StringComparison.Ordinal))
        {
            return TryParseUnix(text, text[UnixPrefix.Length..], out endPoint, out error);
        }

        if (text.StartsWith(FdPrefix, StringComparison.Ordinal))
        {
            // 0-2 are stdin, stdout and stderr; systemd passes sockets from 3 on.
            if (!int.TryParse(text.AsSpan(FdPrefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var fd) || fd < 3)
            {
                error = $"'{text}' is not fd://N with N a descriptor number from 3 (systemd passes sockets from 3 on)";
                return false;
            }

            endPoint = new FileHandleEndPoint((ulong)fd, FileHandleType.Auto);
            return true;
        }

        var colon = text.LastIndexOf(':');
        if (colon < 0 || !int.TryParse(text.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port is < 0 or > 65535)
        {
            error = $"'{text}' is not HOST:PORT (for example 127.0.0.1:8000 or [::]:443), unix:PATH or fd://N";
            return false;
        }

        var host = text[..colon].Trim('[', ']');
        IPAddress? address = host switch
        {
            "" or "0.0.0.0" => IPAddress.Any,
            "localhost" => IPAddress.Loopback,
            _ => IPAddress.TryParse(host, out var parsed) ? parsed : null,
        };
        if (address is null)
        {
            error = $"'{host}' in '{text}' is not an IP address (use 0.0.0.0, ::, 127.0.0.1 or localhost)";
            return false;
        }

        endPoint = new IPEndPoint(address, port);
        return true;
    }

    private static bool TryParseUnix(string text, string path, out EndPoint? endPoint, out string? error)
    {
        endPoint = null;
        // Absolute only: a relative one would depend on where Tapster was started, and a proxy's
        // config names the socket by its full path anyway.
        error = !path.StartsWith('/') ? $"'{text}' needs an absolute path (for example unix:/run/tapster/app.sock)"
            : path.EndsWith('/') ? $"'{text}' names a directory, not a socket file"
            : path.Contains('\0', StringComparison.Ordinal) ? "a unix: path may not contain a NUL character"
            : Encoding.UTF8.GetByteCount(path) > MaxUnixPathBytes ? $"'{text}' is longer than the {MaxUnixPathBytes} bytes a Unix socket path may have"
            : null;
        if (error is not null)
        {
            return false;
        }

        endPoint = new UnixDomainSocketEndPoint(path);
        return true;
    }

    /// <summary>
    /// Tries to bind every TCP address, as Kestrel will, and lets go of them again: a port another process
    /// holds (or one listed twice, or one below 1024 without the right to it) is named before the
    /// app loads and any worker starts, instead of after. Kestrel's own bind stays the authority; this
    /// only moves the common failure to the front.
    /// </summary>
    public static string? ProbeAll(IEnumerable<(IPEndPoint EndPoint, string Text)> addresses)
    {
        var held = new List<Socket>();
        try
        {
            foreach (var (endPoint, text) in addresses)
            {
                var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
                held.Add(socket);
                // As Kestrel's listener: connections of a previous run in TIME_WAIT do not block the port.
                // SO_REUSEADDR alone, raw: .NET's ReuseAddress option adds SO_REUSEPORT on Linux, which
                // would let the probe share a port Kestrel cannot.
                socket.SetRawSocketOption(SolSocket, SoReuseAddr, BitConverter.GetBytes(1));
                if (endPoint.Address.Equals(IPAddress.IPv6Any))
                {
                    socket.DualMode = true;
                }

                try
                {
                    socket.Bind(endPoint);
                    // Only a listening socket keeps a second SO_REUSEADDR bind of the same address out.
                    socket.Listen(1);
                }
                catch (SocketException e)
                {
                    return $"cannot listen on {text}: {Describe(e.SocketErrorCode, e.Message)}";
                }
            }

            return null;
        }
        finally
        {
            foreach (var socket in held)
            {
                socket.Dispose();
            }
        }
    }

    private static string Describe(SocketError error, string message) => error switch
    {
        SocketError.AddressAlreadyInUse => "the address is already in use (another server on this port, or the same --bind given twice)",
        SocketError.AccessDenied => "permission denied (ports below 1024 need root or CAP_NET_BIND_SERVICE)",
        SocketError.AddressNotAvailable => "no network interface on this machine has that address",
        _ => message,
    };
}

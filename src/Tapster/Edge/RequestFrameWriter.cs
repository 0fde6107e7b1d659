using System.Net;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Tapster.Workers.Protocol;

namespace Tapster.Edge;

/// <summary>
/// Writes a REQUEST frame straight from Kestrel's parsed request: the CGI half of the WSGI environ as
/// latin-1 pairs (docs/protocol.md), then the body inline or the path of its spool file. The CGI rules
/// live here, once: HTTP_ names, names with '_' dropped, duplicates joined, PATH_INFO percent-decoded.
/// </summary>
internal static class RequestFrameWriter
{
    /// <summary>The fixed environ keys written before the headers.</summary>
    private const int FixedPairs = 13;

    /// <summary>Bytes of the fixed keys and of values (addresses, ports, scheme) not sized from the request.</summary>
    private const int FixedOverhead = 512;

    /// <summary>Room kept for a spool file's path: PATH_MAX, whatever the directory.</summary>
    private const int SpoolPathRoom = 4096;

    /// <summary>An upper bound of what <see cref="Write"/> writes (it needs that much room): the frame without an inline body.</summary>
    public static int MaxSize(HttpContext context, string requestId, string scriptName, RequestBody body) =>
        HeadSize(context, requestId, scriptName) + (body.SpoolPath is null ? 0 : Encoding.UTF8.GetMaxByteCount(body.SpoolPath.Length));

    /// <summary>
    /// The largest body the frame can carry inline within <see cref="Frame.MaxPayload"/>; a larger one
    /// goes as the path of its spool file. Negative when not even the head fits: limits raised near
    /// their maximum allow a request line and headers that the CGI environ makes larger than a frame.
    /// </summary>
    public static int InlineBodyRoom(HttpContext context, string requestId, string scriptName) =>
        Frame.HeaderSize + Frame.MaxPayload - SpoolPathRoom - HeadSize(context, requestId, scriptName);

    /// <summary>An upper bound of the frame's size without its body section.</summary>
    private static int HeadSize(HttpContext context, string requestId, string scriptName)
    {
        var feature = context.Features.GetRequiredFeature<IHttpRequestFeature>();
        var size = Frame.HeaderSize + 4 + 4 + FixedOverhead + (FixedPairs * 8) + (feature.RawTarget.Length * 2)
            + feature.Method.Length + requestId.Length + scriptName.Length;
        foreach (var header in context.Request.Headers)
        {
            size += 8 + 5 + header.Key.Length;
            foreach (var value in header.Value)
            {
                size += (value?.Length ?? 0) + 2;
            }
        }

        return size;
    }

    /// <summary>
    /// Writes the frame into <paramref name="destination"/> (at least <see cref="MaxSize"/> bytes) up to
    /// its inline body, which is sent right after it from where it is (<see cref="RequestBody.InlineMemory"/>):
    /// a 1 MiB upload is not copied, and no buffer of that size stays with the slot. Returns the length written.
    /// </summary>
    public static int Write(Span<byte> destination, HttpContext context, string requestId, string scriptName, RequestBody body)
    {
        var feature = context.Features.GetRequiredFeature<IHttpRequestFeature>();
        var headers = context.Request.Headers;
        var payload = destination[Frame.HeaderSize..];
        payload[0] = body.IsEmpty ? (byte)0 : body.SpoolPath is null ? (byte)1 : (byte)2;
        payload[1] = 0;
        payload[2] = 0;
        payload[3] = 0;

        var table = new StringTableWriter(payload[4..], (FixedPairs + headers.Count) * 2);
        SplitTarget(feature.RawTarget, out var path, out var query);

        Pair(ref table, "REQUEST_METHOD"u8, feature.Method);
        WritePathInfo(ref table, path, scriptName);
        Pair(ref table, "QUERY_STRING"u8, query);
        Pair(ref table, "SERVER_PROTOCOL"u8, feature.Protocol);
        Pair(ref table, "wsgi.url_scheme"u8, feature.Scheme);
        var connection = context.Connection;
        if (connection.LocalIpAddress is { } local)
        {
            PairAddress(ref table, "SERVER_NAME"u8, local);
            PairNumber(ref table, "SERVER_PORT"u8, connection.LocalPort);
        }
        else
        {
            // A Unix socket has neither, and PEP 3333 wants both: what a client of the proxy in front
            // reaches by default (an app asks for HTTP_HOST first anyway).
            Pair(ref table, "SERVER_NAME"u8, "localhost");
            Pair(ref table, "SERVER_PORT"u8, feature.Scheme == "https" ? "443" : "80");
        }

        // A client on a Unix socket has no address (unless a trusted proxy named one): none is made up.
        if (connection.RemoteIpAddress is { } remote)
        {
            PairAddress(ref table, "REMOTE_ADDR"u8, remote);
            PairNumber(ref table, "REMOTE_PORT"u8, connection.RemotePort);
        }
        Pair(ref table, "HTTP_X_REQUEST_ID"u8, requestId);
        if (!body.IsEmpty)
        {
            PairNumber(ref table, "CONTENT_LENGTH"u8, body.Length);
        }

        // HTTP/1.1 names reach us checked by Kestrel; HTTP/2 ones are not (a space, ':' or a control
        // character would make an environ key no CGI name can be).
        var checkNames = !HttpProtocol.IsHttp11(feature.Protocol) && !HttpProtocol.IsHttp10(feature.Protocol);
        foreach (var header in headers)
        {
            var name = header.Key;
            if (name.Contains('_', StringComparison.Ordinal) || name.Length == 0 || name[0] == ':'
                || (checkNames && !name.All(Headers.HttpToken.IsTokenChar)))
            {
                // Content_Length must not pose as Content-Length: CGI names cannot tell them apart.
                continue;
            }

            if (name.Equals("Proxy", StringComparison.OrdinalIgnoreCase))
            {
                // httpoxy: as HTTP_PROXY it would pose as the proxy setting of any library that reads
                // the environ (or a copy of it in os.environ) for one.
                continue;
            }

            // The body reaches the app whole, with CONTENT_LENGTH: a Transfer-Encoding it was sent with
            // is framing Tapster removed, and Werkzeug, seeing "chunked" without wsgi.input_terminated,
            // reads such a body as empty.
            if (name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase)
                || name.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase)
                || name.Equals("X-Request-ID", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            if (name.Equals("Content-Type", StringComparison.OrdinalIgnoreCase))
            {
                table.Write("CONTENT_TYPE"u8);
            }
            else
            {
                WriteCgiName(ref table, name);
            }

            WriteJoined(ref table, header.Value, name.Equals("Cookie", StringComparison.OrdinalIgnoreCase) ? "; " : ",");
        }

        var tableLength = table.Complete();
        var pathLength = body.SpoolPath is null ? 0 : Encoding.UTF8.GetBytes(body.SpoolPath, payload[(4 + tableLength)..]);
        var written = 4 + tableLength + pathLength;
        Frame.WriteHeader(destination, FrameType.Request, written + body.InlineMemory.Length);
        return Frame.HeaderSize + written;
    }

    /// <summary>Splits a request target into its path and query; absolute-form targets lose their scheme and authority.</summary>
    internal static void SplitTarget(string rawTarget, out ReadOnlySpan<char> path, out ReadOnlySpan<char> query)
    {
        var target = rawTarget.AsSpan();
        if (target.Length > 0 && target[0] != '/' && target.IndexOf("://", StringComparison.Ordinal) is var scheme and >= 0)
        {
            var rest = target[(scheme + 3)..];
            var slash = rest.IndexOfAny('/', '?');
            target = slash < 0 ? "/" : rest[slash..];
        }

        var mark = target.IndexOf('?');
        path = mark < 0 ? target : target[..mark];
        query = mark < 0 ? [] : target[(mark + 1)..];
    }

    /// <summary>Percent-decodes <paramref name="path"/> into bytes; malformed escapes stay as they are.</summary>
    internal static int PercentDecode(ReadOnlySpan<char> path, Span<byte> destination)
    {
        var written = 0;
        for (var i = 0; i < path.Length; i++)
        {
            var c = path[i];
            if (c == '%' && i + 2 < path.Length && IsHex(path[i + 1]) && IsHex(path[i + 2]))
            {
                destination[written++] = (byte)((HexValue(path[i + 1]) << 4) | HexValue(path[i + 2]));
                i += 2;
            }
            else
            {
                destination[written++] = (byte)c;
            }
        }

        return written;
    }

    private static void WritePathInfo(ref StringTableWriter table, ReadOnlySpan<char> path, string scriptName)
    {
        table.Write("PATH_INFO"u8);
        var pathInfo = table.Free;
        var length = PercentDecode(path, pathInfo);
        var prefix = scriptName.Length > 0 && StartsWithSegment(pathInfo[..length], scriptName) ? scriptName.Length : 0;
        if (prefix > 0)
        {
            pathInfo[prefix..length].CopyTo(pathInfo);
        }

        table.Commit(length - prefix);
        Pair(ref table, "SCRIPT_NAME"u8, prefix > 0 ? scriptName : "");
    }

    private static bool StartsWithSegment(ReadOnlySpan<byte> path, string prefix)
    {
        if (path.Length < prefix.Length)
        {
            return false;
        }

        for (var i = 0; i < prefix.Length; i++)
        {
            if (path[i] != prefix[i])
            {
                return false;
            }
        }

        return path.Length == prefix.Length || path[prefix.Length] == '/';
    }

    private static void WriteCgiName(ref StringTableWriter table, string name)
    {
        var free = table.Free;
        "HTTP_"u8.CopyTo(free);
        for (var i = 0; i < name.Length; i++)
        {
            var c = name[i];
            free[5 + i] = c == '-' ? (byte)'_' : (byte)char.ToUpperInvariant(c);
        }

        table.Commit(5 + name.Length);
    }

    private static void WriteJoined(ref StringTableWriter table, Microsoft.Extensions.Primitives.StringValues values, string separator)
    {
        var free = table.Free;
        var written = 0;
        for (var i = 0; i < values.Count; i++)
        {
            if (i > 0)
            {
                written += Encoding.Latin1.GetBytes(separator, free[written..]);
            }

            written += Encoding.Latin1.GetBytes(values[i] ?? "", free[written..]);
        }

        table.Commit(written);
    }

    private static void Pair(ref StringTableWriter table, ReadOnlySpan<byte> key, ReadOnlySpan<char> value)
    {
        table.Write(key);
        table.Commit(Encoding.Latin1.GetBytes(value, table.Free));
    }

    private static void PairNumber(ref StringTableWriter table, ReadOnlySpan<byte> key, long value)
    {
        table.Write(key);
        value.TryFormat(table.Free, out var written, default, System.Globalization.CultureInfo.InvariantCulture);
        table.Commit(written);
    }

    private static void PairAddress(ref StringTableWriter table, ReadOnlySpan<byte> key, IPAddress address)
    {
        table.Write(key);
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        address.TryFormat(table.Free, out var written);
        table.Commit(written);
    }

    private static bool IsHex(char c) => char.IsAsciiHexDigit(c);

    private static int HexValue(char c) => c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}

using System.Buffers.Binary;
using System.Net.Sockets;
using System.Text;

namespace Tapster.Tests.Functional;

/// <summary>
/// One HTTP/2 request written by hand over h2c, for what HttpClient will not send (a :path with a
/// space or a control character): HPACK literals without Huffman coding, and only as much of the
/// response read back as a status needs.
/// </summary>
public static class RawHttp2
{
    const byte Headers = 0x1, RstStream = 0x3, Settings = 0x4, GoAway = 0x7;
    const byte EndStream = 0x1, EndHeaders = 0x4;

    /// <summary>HPACK's static table entries for :status (RFC 7541 appendix A), by index.</summary>
    static readonly Dictionary<int, int> StaticStatus = new() { [8] = 200, [9] = 204, [10] = 206, [11] = 304, [12] = 400, [13] = 404, [14] = 500 };

    /// <summary>Sends GET <paramref name="path"/> (latin-1 bytes) on stream 1; returns the response status, or null when the stream was reset or the connection closed.</summary>
    public static async Task<int?> GetStatusAsync(int port, string path)
    {
        using var client = new TcpClient { NoDelay = true };
        await client.ConnectAsync("127.0.0.1", port);
        var stream = client.GetStream();
        var fields = new MemoryStream();
        foreach (var (name, value) in new[] { (":method", "GET"), (":scheme", "http"), (":authority", "x"), (":path", path) })
        {
            fields.WriteByte(0x00); // literal header field without indexing, new name
            WriteString(fields, name);
            WriteString(fields, value);
        }

        var request = new MemoryStream();
        request.Write("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8);
        WriteFrame(request, Settings, 0, 0, []);
        WriteFrame(request, Headers, EndStream | EndHeaders, 1, fields.ToArray());
        await stream.WriteAsync(request.ToArray());

        using var timeout = new CancellationTokenSource(Http.Short);
        var header = new byte[9];
        while (true)
        {
            if (!await ReadExactlyAsync(stream, header, timeout.Token))
            {
                return null;
            }

            var length = (header[0] << 16) | (header[1] << 8) | header[2];
            var payload = new byte[length];
            if (!await ReadExactlyAsync(stream, payload, timeout.Token))
            {
                return null;
            }

            var streamId = BinaryPrimitives.ReadInt32BigEndian(header.AsSpan(5)) & int.MaxValue;
            switch (header[3])
            {
                case Headers when streamId == 1:
                    return Status(payload);
                case RstStream when streamId == 1:
                case GoAway:
                    return null;
            }
        }
    }

    /// <summary>:status from the first field of a response block as Kestrel encodes it: indexed, or a literal with an indexed name.</summary>
    static int? Status(byte[] block)
    {
        if ((block[0] & 0x80) != 0)
        {
            return StaticStatus.GetValueOrDefault(block[0] & 0x7f);
        }

        // Literal with the name from index 8..14 (all :status); the value is a plain 3-byte string.
        var nameIndex = (block[0] & 0x40) != 0 ? block[0] & 0x3f : block[0] & 0x0f;
        return StaticStatus.ContainsKey(nameIndex) && block[1] == 3 ? int.Parse(Encoding.ASCII.GetString(block, 2, 3), System.Globalization.CultureInfo.InvariantCulture) : null;
    }

    static void WriteString(MemoryStream to, string text)
    {
        var bytes = Encoding.Latin1.GetBytes(text);
        if (bytes.Length > 126)
        {
            throw new ArgumentException("only short strings are encoded here", nameof(text));
        }

        to.WriteByte((byte)bytes.Length);
        to.Write(bytes);
    }

    static void WriteFrame(MemoryStream to, byte type, int flags, int streamId, byte[] payload)
    {
        Span<byte> header = stackalloc byte[9];
        header[0] = (byte)(payload.Length >> 16);
        header[1] = (byte)(payload.Length >> 8);
        header[2] = (byte)payload.Length;
        header[3] = type;
        header[4] = (byte)flags;
        BinaryPrimitives.WriteInt32BigEndian(header[5..], streamId);
        to.Write(header);
        to.Write(payload);
    }

    static async Task<bool> ReadExactlyAsync(NetworkStream stream, byte[] buffer, CancellationToken cancel)
    {
        try
        {
            await stream.ReadExactlyAsync(buffer, cancel);
            return true;
        }
        catch (EndOfStreamException)
        {
            return false;
        }
        catch (IOException)
        {
            return false;
        }
    }
}

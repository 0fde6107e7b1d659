using System.Buffers.Binary;
using System.Text;

namespace Tapster.Tls.Acme;

/// <summary>
/// Reads the ALPN protocols a TLS ClientHello offers, from the connection's first record, before any
/// TLS library sees it: .NET's certificate selection is told the SNI name but not the ALPN list, and
/// TLS-ALPN-01 needs both.
/// <code>
/// record:     type=22 (1) | version (2) | length (2) | handshake...
/// handshake:  type=1 ClientHello (1) | length (3) | version (2) | random (32)
///             | session id (1+n) | cipher suites (2+n) | compression (1+n) | extensions (2+n)
/// extension:  type (2) | length (2) | data; ALPN is type 16 (RFC 7301): list length (2) | (length (1) | name)*
/// </code>
/// A ClientHello split over several records (rare, and never from an ACME validator) reads as offering
/// nothing, which only means the normal certificate is served.
/// </summary>
internal static class ClientHelloAlpn
{
    /// <summary>A TLS record is at most 2^14 bytes of plaintext (RFC 8446 5.1), plus its header.</summary>
    public const int MaxRecord = 5 + 16384;

    private const byte HandshakeRecord = 22;
    private const byte ClientHello = 1;
    private const ushort AlpnExtension = 16;

    /// <summary>
    /// False when more bytes are needed to tell; otherwise true, with the offered protocols (none for
    /// anything that is not a readable ClientHello).
    /// </summary>
    public static bool TryRead(ReadOnlySpan<byte> data, out IReadOnlyList<string> protocols)
    {
        protocols = [];
        if (data.Length == 0)
        {
            return false;
        }

        if (data[0] != HandshakeRecord)
        {
            return true;
        }

        if (data.Length < 5)
        {
            return false;
        }

        var recordLength = BinaryPrimitives.ReadUInt16BigEndian(data[3..]);
        if (data.Length < 5 + recordLength)
        {
            return false;
        }

        protocols = Parse(data.Slice(5, recordLength));
        return true;
    }

    private static List<string> Parse(ReadOnlySpan<byte> handshake)
    {
        var found = new List<string>();
        if (handshake.Length < 4 || handshake[0] != ClientHello)
        {
            return found;
        }

        var hello = handshake[4..];
        if (!Skip(ref hello, 2 + 32) || !SkipVector(ref hello, 1) || !SkipVector(ref hello, 2) || !SkipVector(ref hello, 1)
            || !TakeVector(ref hello, 2, out var extensions))
        {
            return found;
        }

        while (extensions.Length >= 4)
        {
            var type = BinaryPrimitives.ReadUInt16BigEndian(extensions);
            extensions = extensions[2..];
            if (!TakeVector(ref extensions, 2, out var extension))
            {
                return found;
            }

            if (type == AlpnExtension && TakeVector(ref extension, 2, out var names))
            {
                while (TakeVector(ref names, 1, out var name))
                {
                    found.Add(Encoding.ASCII.GetString(name));
                }
            }
        }

        return found;
    }

    private static bool Skip(ref ReadOnlySpan<byte> data, int count)
    {
        if (data.Length < count)
        {
            return false;
        }

        data = data[count..];
        return true;
    }

    private static bool SkipVector(ref ReadOnlySpan<byte> data, int lengthBytes) => TakeVector(ref data, lengthBytes, out _);

    /// <summary>Takes a length-prefixed vector (RFC 8446 3.4) off the front of <paramref name="data"/>.</summary>
    private static bool TakeVector(ref ReadOnlySpan<byte> data, int lengthBytes, out ReadOnlySpan<byte> vector)
    {
        vector = default;
        if (data.Length < lengthBytes)
        {
            return false;
        }

        var length = lengthBytes == 1 ? data[0] : BinaryPrimitives.ReadUInt16BigEndian(data);
        if (data.Length < lengthBytes + length)
        {
            return false;
        }

        vector = data.Slice(lengthBytes, length);
        data = data[(lengthBytes + length)..];
        return true;
    }
}

using System.Buffers.Binary;

namespace Tapster.Workers.Protocol;

/// <summary>
/// The frame layout of the worker protocol (docs/protocol.md), all integers little-endian:
/// <code>
///  0               1               2               3
/// +---------------------------------------------------------------+
/// |                 payload length (u32, &lt;= MaxPayload)           |
/// +---------------+---------------+-------------------------------+
/// |   type (u8)   |  flags (u8)   |        reserved (u16) = 0     |
/// +---------------+---------------+-------------------------------+
/// |                 payload ...                                   |
/// </code>
/// </summary>
internal static class Frame
{
    public const int HeaderSize = 8;

    /// <summary>2 MiB: above the largest inline body (the spool threshold) plus the largest header block.</summary>
    public const int MaxPayload = 2 * 1024 * 1024;

    public const ushort Version = 4;

    /// <summary>"TPST", the magic that opens HELLO and WELCOME.</summary>
    public static ReadOnlySpan<byte> Magic => "TPST"u8;

    public static void WriteHeader(Span<byte> destination, FrameType type, int payloadLength, byte flags = 0)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(destination, (uint)payloadLength);
        destination[4] = (byte)type;
        destination[5] = flags;
        BinaryPrimitives.WriteUInt16LittleEndian(destination[6..], 0);
    }

    /// <summary>Decodes and checks a frame header; a bad header is a protocol violation by the peer.</summary>
    public static FrameHeader ReadHeader(ReadOnlySpan<byte> source)
    {
        var length = BinaryPrimitives.ReadUInt32LittleEndian(source);
        if (length > MaxPayload)
        {
            throw new ProtocolException($"frame payload of {length} bytes exceeds the maximum of {MaxPayload}");
        }

        var type = (FrameType)source[4];
        if (!Enum.IsDefined(type))
        {
            throw new ProtocolException($"unknown frame type 0x{source[4]:x2}");
        }

        if (BinaryPrimitives.ReadUInt16LittleEndian(source[6..]) != 0)
        {
            throw new ProtocolException("reserved field of a frame header is not zero");
        }

        return new FrameHeader(type, source[5], (int)length);
    }
}

internal readonly record struct FrameHeader(FrameType Type, byte Flags, int PayloadLength);

using System.Buffers.Binary;

namespace Tapster.Workers.Protocol;

internal enum PeerRole : byte
{
    Zygote = 0,
    WorkerControl = 1,
    /// <summary>A slot's request connection: C# sends REQUEST, CANCEL and FILE_OPENED on it.</summary>
    WorkerSlot = 2,

    /// <summary>A slot's response connection: the worker sends START, BODY, FILE and END on it.</summary>
    WorkerSlotResponses = 3,

    /// <summary>The worker's fd 1: after WELCOME, raw bytes of its standard output, not frames.</summary>
    WorkerStdout = 4,

    /// <summary>The worker's fd 2: after WELCOME, raw bytes of its standard error, not frames.</summary>
    WorkerStderr = 5,
}

/// <summary>
/// HELLO, the first frame on every connection (36 bytes):
/// <c>"TPST", version u16, role u8, 0 u8, worker id u32, pid u32, slot u16, 0 u16, token[16]</c>.
/// </summary>
internal readonly record struct Hello(PeerRole Role, uint WorkerId, int Pid, ushort SlotIndex, byte[] Token)
{
    public const int Size = 36;
    public const int TokenSize = 16;

    public static Hello Parse(ReadOnlySpan<byte> payload)
    {
        if (payload.Length != Size || !payload[..4].SequenceEqual(Frame.Magic))
        {
            throw new ProtocolException("HELLO has the wrong size or magic");
        }

        var version = BinaryPrimitives.ReadUInt16LittleEndian(payload[4..]);
        if (version != Frame.Version)
        {
            throw new ProtocolException($"worker speaks protocol version {version}, Tapster speaks {Frame.Version}");
        }

        var role = (PeerRole)payload[6];
        if (!Enum.IsDefined(role))
        {
            throw new ProtocolException($"HELLO names unknown role {payload[6]}");
        }

        return new Hello(
            role,
            BinaryPrimitives.ReadUInt32LittleEndian(payload[8..]),
            BinaryPrimitives.ReadInt32LittleEndian(payload[12..]),
            BinaryPrimitives.ReadUInt16LittleEndian(payload[16..]),
            payload.Slice(20, TokenSize).ToArray());
    }

    public void WriteTo(Span<byte> payload)
    {
        Frame.Magic.CopyTo(payload);
        BinaryPrimitives.WriteUInt16LittleEndian(payload[4..], Frame.Version);
        payload[6] = (byte)Role;
        payload[7] = 0;
        BinaryPrimitives.WriteUInt32LittleEndian(payload[8..], WorkerId);
        BinaryPrimitives.WriteInt32LittleEndian(payload[12..], Pid);
        BinaryPrimitives.WriteUInt16LittleEndian(payload[16..], SlotIndex);
        BinaryPrimitives.WriteUInt16LittleEndian(payload[18..], 0);
        Token.CopyTo(payload[20..]);
    }
}

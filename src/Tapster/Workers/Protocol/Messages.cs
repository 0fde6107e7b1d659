using System.Buffers.Binary;
using System.Text;

namespace Tapster.Workers.Protocol;

/// <summary>Encoders and decoders of the small fixed-layout frames (docs/protocol.md).</summary>
internal static class Messages
{
    public const int WelcomeSize = 6;

    public static int WriteWelcome(Span<byte> destination)
    {
        Frame.WriteHeader(destination, FrameType.Welcome, WelcomeSize);
        Frame.Magic.CopyTo(destination[Frame.HeaderSize..]);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[(Frame.HeaderSize + 4)..], Frame.Version);
        return Frame.HeaderSize + WelcomeSize;
    }

    public static int WriteFork(Span<byte> destination, uint workerId)
    {
        Frame.WriteHeader(destination, FrameType.Fork, 4);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[Frame.HeaderSize..], workerId);
        return Frame.HeaderSize + 4;
    }

    public static int WriteFileOpened(Span<byte> destination, bool ok)
    {
        Frame.WriteHeader(destination, FrameType.FileOpened, 1);
        destination[Frame.HeaderSize] = ok ? (byte)1 : (byte)0;
        return Frame.HeaderSize + 1;
    }

    public static int WriteEmpty(Span<byte> destination, FrameType type)
    {
        Frame.WriteHeader(destination, type, 0);
        return Frame.HeaderSize;
    }

    public static (uint WorkerId, int Pid) ReadForked(ReadOnlySpan<byte> payload)
    {
        RequireLength(payload, 8, "FORKED");
        return (BinaryPrimitives.ReadUInt32LittleEndian(payload), BinaryPrimitives.ReadInt32LittleEndian(payload[4..]));
    }

    public static (int Pid, int Status) ReadExited(ReadOnlySpan<byte> payload)
    {
        RequireLength(payload, 8, "EXITED");
        return (BinaryPrimitives.ReadInt32LittleEndian(payload), BinaryPrimitives.ReadInt32LittleEndian(payload[4..]));
    }

    public static FileBody ReadFile(ReadOnlySpan<byte> payload)
    {
        RequireLength(payload, 24, "FILE");
        var fd = BinaryPrimitives.ReadInt32LittleEndian(payload);
        var offset = BinaryPrimitives.ReadInt64LittleEndian(payload[8..]);
        var count = BinaryPrimitives.ReadInt64LittleEndian(payload[16..]);
        if (fd < 0 || offset < 0 || count < -1)
        {
            throw new ProtocolException("FILE names a negative descriptor, offset or count");
        }

        return new FileBody(fd, offset, count);
    }

    public static EndOutcome ReadEnd(ReadOnlySpan<byte> payload)
    {
        RequireLength(payload, 1, "END");
        var outcome = (EndOutcome)payload[0];
        return Enum.IsDefined(outcome) ? outcome : throw new ProtocolException($"END has unknown outcome {payload[0]}");
    }

    /// <summary>LOG: UTF-8 text (bytes that are not UTF-8 become U+FFFD) and the stream its flags name.</summary>
    public static (string Text, string Stream) ReadLog(FrameHeader header, ReadOnlySpan<byte> payload) =>
        (Encoding.UTF8.GetString(payload), header.Flags switch
        {
            0 => "wsgi.errors",
            1 => "stderr",
            2 => "stdout",
            _ => throw new ProtocolException($"LOG has unknown flags {header.Flags}"),
        });

    public static BootError ReadBootError(ReadOnlySpan<byte> payload)
    {
        var table = new StringTableReader(payload, out _);
        if (table.Count != 4)
        {
            throw new ProtocolException("BOOT_ERROR must hold four strings");
        }

        table.TryRead(out var kind);
        table.TryRead(out var python);
        table.TryRead(out var message);
        table.TryRead(out var traceback);
        return new BootError(
            Encoding.UTF8.GetString(kind), Encoding.UTF8.GetString(python),
            Encoding.UTF8.GetString(message), Encoding.UTF8.GetString(traceback));
    }

    private static void RequireLength(ReadOnlySpan<byte> payload, int length, string name)
    {
        if (payload.Length != length)
        {
            throw new ProtocolException($"{name} payload must be {length} bytes, got {payload.Length}");
        }
    }
}

internal readonly record struct FileBody(int Fd, long Offset, long Count);

internal enum EndOutcome : byte
{
    Complete = 0,
    FailedAfterStart = 1,
    Cancelled = 2,
}

/// <summary>Why the app could not be loaded; <see cref="Kind"/> is import, missing or spec.</summary>
internal sealed record BootError(string Kind, string Python, string Message, string Traceback)
{
    /// <summary>A dependency (not the app itself) is missing: another interpreter may have it.</summary>
    public bool MayBeWrongInterpreter => Kind == "missing";
}

using System.Buffers.Binary;
using Tapster.Workers.Protocol;

namespace Tapster.Tests.Unit.Workers;

/// <summary>
/// A worker runs the app's code, so every byte it sends is untrusted input to Tapster. Whatever those
/// bytes are, a reader either decodes them or throws <see cref="ProtocolException"/> (the worker is then
/// replaced and its request gets 502): never another exception, which would be a server bug.
/// </summary>
public sealed class ProtocolFuzzTests
{
    const int Rounds = 20_000;

    static readonly FrameType[] Types = Enum.GetValues<FrameType>();

    [Fact]
    public void Every_reader_decodes_random_payloads_or_refuses_them_with_a_protocol_exception()
    {
        var random = new Random(20261125);
        for (var round = 0; round < Rounds; round++)
        {
            var payload = Payload(random);
            var flags = (byte)random.Next(4);
            DecodesOrRefuses(payload, () => Hello.Parse(payload));
            DecodesOrRefuses(payload, () => ReadWholeTable(payload));
            DecodesOrRefuses(payload, () => Messages.ReadBootError(payload));
            DecodesOrRefuses(payload, () => Messages.ReadForked(payload));
            DecodesOrRefuses(payload, () => Messages.ReadExited(payload));
            DecodesOrRefuses(payload, () => Messages.ReadFile(payload));
            DecodesOrRefuses(payload, () => Messages.ReadEnd(payload));
            DecodesOrRefuses(payload, () => Messages.ReadLog(new FrameHeader(FrameType.Log, flags, payload.Length), payload));
            var header = payload.Length >= Frame.HeaderSize ? payload[..Frame.HeaderSize] : Header(random);
            DecodesOrRefuses(header, () => Frame.ReadHeader(header));
        }
    }

    [Fact]
    public void A_header_is_refused_for_an_oversized_length_an_unknown_type_or_a_reserved_field_that_is_not_zero()
    {
        Assert.Throws<ProtocolException>(() => Frame.ReadHeader(Header(Frame.MaxPayload + 1, (byte)FrameType.Body, 0)));
        Assert.Throws<ProtocolException>(() => Frame.ReadHeader(Header(0, 0x7f, 0)));
        Assert.Throws<ProtocolException>(() => Frame.ReadHeader(Header(0, (byte)FrameType.End, 1)));
        Assert.Equal(Frame.MaxPayload, Frame.ReadHeader(Header(Frame.MaxPayload, (byte)FrameType.Body, 0)).PayloadLength);
    }

    /// <summary>Random bytes half of the time; otherwise a string table with lengths chosen to land on the edges.</summary>
    static byte[] Payload(Random random)
    {
        if (random.Next(2) == 0)
        {
            var bytes = new byte[random.Next(0, 64)];
            random.NextBytes(bytes);
            return bytes;
        }

        var count = random.Next(8) == 0 ? (uint)random.NextInt64(uint.MaxValue) : (uint)random.Next(0, 7);
        var data = new byte[random.Next(0, 48)];
        random.NextBytes(data);
        var shown = (int)Math.Min(count, 8);
        var payload = new byte[4 + (shown * 4) + data.Length];
        BinaryPrimitives.WriteUInt32LittleEndian(payload, count);
        for (var i = 0; i < shown; i++)
        {
            uint[] edges = [0, 1, (uint)data.Length, (uint)data.Length + 1, int.MaxValue, uint.MaxValue, (uint)random.Next(0, 16)];
            BinaryPrimitives.WriteUInt32LittleEndian(payload.AsSpan(4 + (i * 4)), edges[random.Next(edges.Length)]);
        }

        data.CopyTo(payload, 4 + (shown * 4));
        return payload;
    }

    static byte[] Header(Random random)
    {
        uint[] lengths = [0, 1, Frame.MaxPayload, Frame.MaxPayload + 1, uint.MaxValue, (uint)random.Next()];
        var type = random.Next(3) == 0 ? (byte)random.Next(256) : (byte)Types[random.Next(Types.Length)];
        return Header(lengths[random.Next(lengths.Length)], type, random.Next(4) == 0 ? (ushort)random.Next(1, 65536) : (ushort)0);
    }

    static byte[] Header(long length, byte type, ushort reserved)
    {
        var header = new byte[Frame.HeaderSize];
        BinaryPrimitives.WriteUInt32LittleEndian(header, (uint)length);
        header[4] = type;
        BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(6), reserved);
        return header;
    }

    static int ReadWholeTable(byte[] payload)
    {
        var table = new StringTableReader(payload, out var consumed);
        var total = 0;
        while (table.TryRead(out var value))
        {
            total += value.Length;
        }

        Assert.True(consumed <= payload.Length);
        return total;
    }

    static void DecodesOrRefuses<T>(byte[] input, Func<T> read)
    {
        try
        {
            read();
        }
        catch (ProtocolException)
        {
        }
        catch (Exception e)
        {
            Assert.Fail($"{e.GetType().Name} instead of a ProtocolException for {Convert.ToHexString(input)}: {e.Message}");
        }
    }
}

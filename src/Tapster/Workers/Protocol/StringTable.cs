using System.Buffers.Binary;

namespace Tapster.Workers.Protocol;

/// <summary>
/// The string table of REQUEST, START and BOOT_ERROR: <c>count u32, count x length u32, the bytes</c>.
/// Readers check every length against the payload before they slice.
/// </summary>
internal ref struct StringTableReader
{
    private readonly ReadOnlySpan<byte> _lengths;
    private readonly ReadOnlySpan<byte> _data;
    private int _index;
    private int _offset;

    public StringTableReader(ReadOnlySpan<byte> payload, out int consumed)
    {
        if (payload.Length < 4)
        {
            throw new ProtocolException("string table is shorter than its count");
        }

        var count = BinaryPrimitives.ReadUInt32LittleEndian(payload);
        if (count > (uint)(payload.Length - 4) / 4)
        {
            throw new ProtocolException($"string table count {count} runs past the payload");
        }

        Count = (int)count;
        _lengths = payload.Slice(4, Count * 4);
        var dataStart = 4 + (Count * 4);
        long total = 0;
        for (var i = 0; i < Count; i++)
        {
            total += BinaryPrimitives.ReadUInt32LittleEndian(_lengths[(i * 4)..]);
        }

        if (total > payload.Length - dataStart)
        {
            throw new ProtocolException("string table lengths run past the payload");
        }

        _data = payload.Slice(dataStart, (int)total);
        consumed = dataStart + (int)total;
    }

    public int Count { get; }

    public bool TryRead(out ReadOnlySpan<byte> value)
    {
        if (_index >= Count)
        {
            value = default;
            return false;
        }

        var length = (int)BinaryPrimitives.ReadUInt32LittleEndian(_lengths[(_index * 4)..]);
        value = _data.Slice(_offset, length);
        _offset += length;
        _index++;
        return true;
    }
}

/// <summary>
/// Writes a string table into a buffer whose size the caller guarantees: the lengths are reserved for
/// <c>maxCount</c> strings up front and compacted when fewer were written.
/// </summary>
internal ref struct StringTableWriter
{
    private readonly Span<byte> _destination;
    private readonly int _maxCount;
    private int _count;
    private int _dataLength;

    public StringTableWriter(Span<byte> destination, int maxCount)
    {
        _destination = destination;
        _maxCount = maxCount;
    }

    private readonly int DataStart => 4 + (_maxCount * 4);

    /// <summary>The span where the next string goes; call <see cref="Commit"/> with the bytes written.</summary>
    public readonly Span<byte> Free => _destination[(DataStart + _dataLength)..];

    public void Commit(int length)
    {
        if (_count == _maxCount)
        {
            throw new InvalidOperationException("string table is full");
        }

        BinaryPrimitives.WriteUInt32LittleEndian(_destination[(4 + (_count * 4))..], (uint)length);
        _count++;
        _dataLength += length;
    }

    public void Write(ReadOnlySpan<byte> value)
    {
        value.CopyTo(Free);
        Commit(value.Length);
    }

    /// <summary>Writes the count, closes the gap left by unused length slots and returns the table's size.</summary>
    public readonly int Complete()
    {
        BinaryPrimitives.WriteUInt32LittleEndian(_destination, (uint)_count);
        var gap = (_maxCount - _count) * 4;
        if (gap > 0)
        {
            _destination.Slice(DataStart, _dataLength).CopyTo(_destination[(DataStart - gap)..]);
        }

        return DataStart - gap + _dataLength;
    }
}

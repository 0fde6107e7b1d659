using System.Buffers;
using System.IO.Pipelines;

namespace Tapster.Edge.Compression;

/// <summary>
/// The stream an encoder writes into: copies into the response's pipe without flushing (Kestrel forbids
/// synchronous writes to the response stream; the exchange decides when to flush) and counts the bytes
/// for the access log. <see cref="Discard"/> makes it drop everything, for a response already failed.
/// </summary>
internal sealed class PipeWriterSink(PipeWriter writer) : Stream
{
    private bool _discarding;

    public long BytesWritten { get; private set; }

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public void Discard() => _discarding = true;

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        if (_discarding)
        {
            return;
        }

        writer.Write(buffer);
        BytesWritten += buffer.Length;
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Flush()
    {
        // The exchange flushes the pipe itself, asynchronously.
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();
}

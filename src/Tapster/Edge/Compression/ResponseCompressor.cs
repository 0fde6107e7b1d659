using System.IO.Compression;
using System.IO.Pipelines;

namespace Tapster.Edge.Compression;

/// <summary>
/// Compresses one response body into the response's pipe. Levels are chosen for speed, since every
/// byte is compressed while the client waits: Brotli quality 4 is about as fast as gzip 6 and
/// smaller; gzip level 5 is within a few percent of level 9's size at a fraction of its cost.
/// </summary>
internal sealed class ResponseCompressor : IDisposable
{
    private const int BrotliQuality = 4;
    private const int GzipLevel = 5;

    private readonly PipeWriterSink _sink;
    private readonly Stream _encoder;
    private bool _done;

    public ResponseCompressor(ContentCoding coding, PipeWriter writer)
    {
        _sink = new PipeWriterSink(writer);
        _encoder = coding == ContentCoding.Brotli
            ? new BrotliStream(_sink, new BrotliCompressionOptions { Quality = BrotliQuality }, leaveOpen: true)
            : new GZipStream(_sink, new ZLibCompressionOptions { CompressionLevel = GzipLevel }, leaveOpen: true);
    }

    /// <summary>Compressed bytes handed to the response so far.</summary>
    public long BytesWritten => _sink.BytesWritten;

    public void Write(ReadOnlySpan<byte> data) => _encoder.Write(data);

    /// <summary>
    /// Pushes out everything written so far (a sync flush), so that a stream's chunk can be decoded by
    /// the client as soon as it arrives instead of waiting in the encoder for more.
    /// </summary>
    public void Flush() => _encoder.Flush();

    /// <summary>Writes the end of the compressed stream.</summary>
    public void Finish()
    {
        _done = true;
        _encoder.Dispose();
    }

    /// <summary>Frees the encoder; a response that never finished gets no end block (it is being cut anyway).</summary>
    public void Dispose()
    {
        if (!_done)
        {
            _done = true;
            _sink.Discard();
            _encoder.Dispose();
        }
    }
}

using System.IO.Compression;
using System.IO.Pipelines;
using System.Text;
using Tapster.Edge.Compression;

namespace Tapster.Tests.Unit.Edge.Compression;

public sealed class ResponseCompressorTests
{
    private static readonly byte[] Text = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("compressible line of text\n", 400)));

    [Theory]
    [InlineData("Brotli")]
    [InlineData("Gzip")]
    public async Task Finish_WritesAWholeStreamThatDecodesToTheInput(string codingName)
    {
        var coding = Enum.Parse<ContentCoding>(codingName);
        var pipe = new Pipe();
        var compressor = new ResponseCompressor(coding, pipe.Writer);
        compressor.Write(Text.AsSpan(0, 1000));
        compressor.Write(Text.AsSpan(1000));
        compressor.Finish();
        compressor.Dispose();
        await pipe.Writer.CompleteAsync();

        var compressed = await ReadAllAsync(pipe.Reader);
        Assert.Equal(compressed.Length, compressor.BytesWritten);
        Assert.True(compressed.Length < Text.Length / 10, $"{compressed.Length} bytes for {Text.Length}");
        Assert.Equal(Text, Decode(coding, compressed));
    }

    [Theory]
    [InlineData("Brotli")]
    [InlineData("Gzip")]
    public async Task Flush_MakesEverythingSoFarDecodableBeforeTheEnd(string codingName)
    {
        var coding = Enum.Parse<ContentCoding>(codingName);
        var pipe = new Pipe();
        using var compressor = new ResponseCompressor(coding, pipe.Writer);
        compressor.Write("data: event0\n\n"u8);
        compressor.Flush();
        await pipe.Writer.FlushAsync();

        var result = await pipe.Reader.ReadAsync();
        using var decoder = Decoder(coding, new MemoryStream(System.Buffers.BuffersExtensions.ToArray(result.Buffer)));
        var first = new byte[64];
        var read = await decoder.ReadAsync(first);
        Assert.Equal("data: event0\n\n", Encoding.UTF8.GetString(first, 0, read));
    }

    [Fact]
    public async Task Dispose_Unfinished_WritesNothingMore()
    {
        var pipe = new Pipe();
        var compressor = new ResponseCompressor(ContentCoding.Gzip, pipe.Writer);
        compressor.Write(Text);
        var before = compressor.BytesWritten;
        compressor.Dispose();
        await pipe.Writer.CompleteAsync();
        Assert.Equal(before, (await ReadAllAsync(pipe.Reader)).Length);
    }

    private static async Task<byte[]> ReadAllAsync(PipeReader reader)
    {
        using var all = new MemoryStream();
        await reader.CopyToAsync(all);
        return all.ToArray();
    }

    private static byte[] Decode(ContentCoding coding, byte[] compressed)
    {
        using var decoder = Decoder(coding, new MemoryStream(compressed));
        using var plain = new MemoryStream();
        decoder.CopyTo(plain);
        return plain.ToArray();
    }

    private static Stream Decoder(ContentCoding coding, Stream compressed) => coding == ContentCoding.Brotli
        ? new BrotliStream(compressed, CompressionMode.Decompress)
        : new GZipStream(compressed, CompressionMode.Decompress);
}

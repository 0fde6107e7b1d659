using System.Text;
using Tapster.Edge;

namespace Tapster.Tests.Unit.Edge;

public sealed class RequestFrameWriterTests
{
    [Theory]
    [InlineData("/a/b?x=1&y=2", "/a/b", "x=1&y=2")]
    [InlineData("/plain", "/plain", "")]
    [InlineData("/q?", "/q", "")]
    [InlineData("http://example.com/p?q=1", "/p", "q=1")]
    [InlineData("http://example.com", "/", "")]
    public void SplitTarget_SeparatesPathAndQuery(string target, string path, string query)
    {
        RequestFrameWriter.SplitTarget(target, out var p, out var q);

        Assert.Equal((path, query), (p.ToString(), q.ToString()));
    }

    [Theory]
    [InlineData("/caf%C3%A9", new byte[] { 0x2f, 0x63, 0x61, 0x66, 0xc3, 0xa9 })]
    [InlineData("/a%2Fb", new byte[] { 0x2f, 0x61, 0x2f, 0x62 })]
    [InlineData("/bad%zz%4", new byte[] { 0x2f, 0x62, 0x61, 0x64, 0x25, 0x7a, 0x7a, 0x25, 0x34 })]
    [InlineData("/sp%20ace", new byte[] { 0x2f, 0x73, 0x70, 0x20, 0x61, 0x63, 0x65 })]
    public void PercentDecode_DecodesValidEscapesToRawBytes(string path, byte[] expected)
    {
        var buffer = new byte[path.Length];

        var length = RequestFrameWriter.PercentDecode(path, buffer);

        Assert.Equal(expected, buffer[..length]);
    }

    [Fact]
    public void PercentDecode_LatinOneView_IsOneCharPerByte()
    {
        var buffer = new byte[16];
        var length = RequestFrameWriter.PercentDecode("/%E9t%E9", buffer);

        Assert.Equal("/été", Encoding.Latin1.GetString(buffer, 0, length));
    }
}

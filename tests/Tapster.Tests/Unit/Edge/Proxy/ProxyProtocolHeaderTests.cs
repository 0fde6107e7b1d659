using System.Buffers;
using System.Net;
using System.Text;
using Tapster.Edge.Proxy;

namespace Tapster.Tests.Unit.Edge.Proxy;

public sealed class ProxyProtocolHeaderTests
{
    static readonly byte[] Signature = [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A];

    static (ProxyParse Result, int Length, IPEndPoint? Source, string? Error) Parse(byte[] bytes)
    {
        var result = ProxyProtocolHeader.TryParse(new ReadOnlySequence<byte>(bytes), out var length, out var source, out var error);
        return (result, length, source, error);
    }

    static byte[] Ascii(string text) => Encoding.ASCII.GetBytes(text);

    internal static byte[] V2(byte command, byte family, byte[] addresses) =>
        [.. Signature, (byte)(0x20 | command), family, (byte)(addresses.Length >> 8), (byte)addresses.Length, .. addresses];

    [Fact]
    public void A_v1_TCP4_line_gives_the_client_address_and_its_length()
    {
        var line = "PROXY TCP4 192.0.2.10 198.51.100.1 56324 443\r\n";

        var (result, length, source, _) = Parse(Ascii(line + "GET / HTTP/1.1\r\n"));

        Assert.Equal(ProxyParse.Complete, result);
        Assert.Equal(line.Length, length);
        Assert.Equal(new IPEndPoint(IPAddress.Parse("192.0.2.10"), 56324), source);
    }

    [Fact]
    public void A_v1_TCP6_line_and_an_UNKNOWN_one_are_read()
    {
        Assert.Equal(new IPEndPoint(IPAddress.Parse("2001:db8::7"), 4711), Parse(Ascii("PROXY TCP6 2001:db8::7 2001:db8::1 4711 443\r\n")).Source);
        var unknown = Parse(Ascii("PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n"));
        Assert.Equal(ProxyParse.Complete, unknown.Result);
        Assert.Null(unknown.Source);
    }

    [Theory]
    [InlineData("PROXY TCP4 192.0.2.10 198.51.100.1 56324 443\n")]
    [InlineData("PROXY TCP4 2001:db8::7 198.51.100.1 1 2\r\n")]
    [InlineData("PROXY TCP4 192.0.2.10 198.51.100.1 65536 443\r\n")]
    [InlineData("PROXY TCP4 192.0.2.10 198.51.100.1 0080 443\r\n")]
    [InlineData("PROXY TCP4 192.0.2.10 198.51.100.1 80\r\n")]
    [InlineData("PROXY UDP4 192.0.2.10 198.51.100.1 80 443\r\n")]
    [InlineData("PROXY TCP4  192.0.2.10 198.51.100.1 80 443\r\n")]
    [InlineData("GET / HTTP/1.1\r\n")]
    [InlineData("proxy TCP4 192.0.2.10 198.51.100.1 80 443\r\n")]
    public void A_malformed_v1_line_is_refused(string line) =>
        Assert.Equal(ProxyParse.Invalid, Parse(Ascii(line)).Result);

    [Fact]
    public void A_v1_line_without_its_end_waits_for_more_until_the_limit_then_is_refused()
    {
        Assert.Equal(ProxyParse.Incomplete, Parse(Ascii("PROX")).Result);
        Assert.Equal(ProxyParse.Incomplete, Parse(Ascii("PROXY TCP4 192.0.2.10 ")).Result);
        Assert.Equal(ProxyParse.Invalid, Parse(Ascii("PROXY TCP4 " + new string('1', 200))).Result);
    }

    [Fact]
    public void A_v2_TCP4_header_gives_the_client_address_and_skips_its_TLVs()
    {
        byte[] addresses = [192, 0, 2, 10, 198, 51, 100, 1, 0xDC, 0x04, 0x01, 0xBB, 0x04, 0x00, 0x01, 0x42];

        var (result, length, source, _) = Parse([.. V2(1, 0x11, addresses), .. Ascii("GET")]);

        Assert.Equal(ProxyParse.Complete, result);
        Assert.Equal(16 + addresses.Length, length);
        Assert.Equal(new IPEndPoint(IPAddress.Parse("192.0.2.10"), 56324), source);
    }

    [Fact]
    public void A_v2_TCP6_header_gives_the_client_address()
    {
        var addresses = new byte[36];
        IPAddress.Parse("2001:db8::7").GetAddressBytes().CopyTo(addresses, 0);
        IPAddress.Parse("2001:db8::1").GetAddressBytes().CopyTo(addresses, 16);
        addresses[32] = 0x12;
        addresses[33] = 0x67;

        Assert.Equal(new IPEndPoint(IPAddress.Parse("2001:db8::7"), 4711), Parse(V2(1, 0x21, addresses)).Source);
    }

    [Fact]
    public void A_v2_LOCAL_header_keeps_the_connection_address()
    {
        var (result, length, source, _) = Parse(V2(0, 0x00, []));

        Assert.Equal(ProxyParse.Complete, result);
        Assert.Equal(16, length);
        Assert.Null(source);
    }

    [Fact]
    public void A_v2_header_is_incomplete_until_its_addresses_arrive()
    {
        var whole = V2(1, 0x11, new byte[12]);

        Assert.Equal(ProxyParse.Incomplete, Parse(whole[..10]).Result);
        Assert.Equal(ProxyParse.Incomplete, Parse(whole[..20]).Result);
        Assert.Equal(ProxyParse.Complete, Parse(whole).Result);
    }

    [Fact]
    public void A_v2_header_with_a_wrong_version_command_family_or_length_is_refused()
    {
        byte[] wrongVersion = [.. Signature, 0x11, 0x11, 0, 12, .. new byte[12]];
        Assert.Equal(ProxyParse.Invalid, Parse(wrongVersion).Result);
        Assert.Equal(ProxyParse.Invalid, Parse(V2(2, 0x11, new byte[12])).Result);
        Assert.Equal(ProxyParse.Invalid, Parse(V2(1, 0x11, new byte[8])).Result);
        Assert.Equal(ProxyParse.Invalid, Parse(V2(1, 0x51, new byte[12])).Result);
        byte[] huge = [.. Signature, 0x21, 0x11, 0xFF, 0xFF];
        Assert.Contains("at most", Parse(huge).Error, StringComparison.Ordinal);
    }
}

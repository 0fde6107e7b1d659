using System.Buffers;
using System.Text;
using Microsoft.Extensions.Primitives;
using Tapster.Edge;
using Tapster.Edge.Headers;
using Tapster.Edge.Proxy;
using Tapster.Edge.Static;
using Tapster.Tests.Fuzzing;

namespace Tapster.Tests.Unit.Edge;

/// <summary>
/// The parsers of what crosses the edge: a PROXY protocol header, Forwarded and X-Forwarded-* (from
/// a balancer, and from anyone before the trust check), Range and Accept-Encoding from clients,
/// Set-Cookie from the app, X-Request-ID. Mutated from valid inputs, each is parsed or refused, never
/// answered with an exception, which Kestrel would turn into a 500 or a dropped connection.
/// </summary>
public sealed class EdgeParserFuzzTests
{
    private const int Rounds = 5_000;

    private static readonly byte[] Interesting = Encoding.Latin1.GetBytes("\0\r\n \t:;,=\"'-./[]0123456789abcdefxyzABCDEF%\\\u007f\u00ff");

    [Fact]
    public void A_mutated_PROXY_header_is_complete_incomplete_or_invalid_and_never_throws()
    {
        var random = new Random(31);
        byte[][] seeds =
        [
            "PROXY TCP4 192.0.2.1 198.51.100.2 56324 443\r\n"u8.ToArray(),
            "PROXY TCP6 2001:db8::1 2001:db8::2 56324 443\r\n"u8.ToArray(),
            "PROXY UNKNOWN\r\n"u8.ToArray(),
            [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A, 0x21, 0x11, 0x00, 0x0C, 192, 0, 2, 1, 198, 51, 100, 2, 0xDC, 0x04, 0x01, 0xBB],
            [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A, 0x20, 0x00, 0x00, 0x00],
        ];
        for (var round = 0; round < Rounds; round++)
        {
            var bytes = Mutated(random, seeds[random.Next(seeds.Length)]);
            var parse = ProxyProtocolHeader.TryParse(new ReadOnlySequence<byte>(bytes), out var length, out _, out var error);
            Assert.True(parse != ProxyParse.Complete || (length > 0 && length <= bytes.Length), $"round {round}: length {length} of {bytes.Length}");
            Assert.True(parse != ProxyParse.Invalid || error is not null, $"round {round}: invalid without a reason");
        }
    }

    [Fact]
    public void Mutated_forwarding_headers_are_parsed_or_dropped_and_never_throw()
    {
        var random = new Random(32);
        string[] seeds =
        [
            "for=192.0.2.60;proto=https;host=shop.example, for=\"[2001:db8::1]:4711\";by=203.0.113.43",
            "for=unknown, for=_hidden",
            "192.0.2.60, 10.0.0.1",
            "[2001:db8::1]:4711",
        ];
        var trusted = TrustedProxies.ParseAll(["10.0.0.0/8"], out _)!;
        for (var round = 0; round < Rounds; round++)
        {
            var text = Text(random, seeds);
            var hops = ForwardedHeaders.ParseForwarded(new StringValues(text));
            ForwardedHeaders.Resolve(hops, trusted);
            ForwardedHeaders.Resolve(ForwardedHeaders.ParseXForwarded(new StringValues(text), new StringValues(Text(random, ["https", "http"])), new StringValues(Text(random, ["shop.example:443"]))), trusted);
            ForwardedHeaders.ParseNode(text);
            ForwardedHeaders.IsHost(text);
        }
    }

    [Fact]
    public void Mutated_client_and_app_headers_are_parsed_or_ignored_and_never_throw()
    {
        var random = new Random(33);
        for (var round = 0; round < Rounds; round++)
        {
            var range = ByteRange.Parse(Text(random, ["bytes=0-499", "bytes=-500", "bytes=9500-", "bytes=0-0,-1"]), 10_000);
            Assert.True(range.Kind != RangeKind.Partial || (range.Start >= 0 && range.Length > 0 && range.Start + range.Length <= 10_000), $"round {round}: {range}");
            AcceptEncoding.Qualities(new StringValues(Text(random, ["gzip, deflate, br;q=0.9", "br;q=1.0, gzip;q=0.8, *;q=0.1", "identity;q=0"])), "br", "gzip");
            CookieHardener.Attributes(Encoding.Latin1.GetBytes(Text(random, ["id=a3fWa; Expires=Wed, 21 Oct 2015 07:28:00 GMT; Secure; HttpOnly; SameSite=Lax; Path=/"])));
            var id = RequestIds.FromClientOrNew(new StringValues(Text(random, ["abc-123", "0f8fad5b-d9cb-469f-a165-70867728950e"])));
            Assert.InRange(id.Length, 1, 128);
        }
    }

    private static byte[] Mutated(Random random, byte[] seed)
    {
        var bytes = seed;
        for (var m = 1 + random.Next(3); m > 0; m--)
        {
            bytes = ByteMutator.Mutate(random, bytes, random.Next(ByteMutator.Kinds), Interesting);
        }

        return bytes;
    }

    private static string Text(Random random, string[] seeds) => Encoding.Latin1.GetString(Mutated(random, Encoding.Latin1.GetBytes(seeds[random.Next(seeds.Length)])));
}

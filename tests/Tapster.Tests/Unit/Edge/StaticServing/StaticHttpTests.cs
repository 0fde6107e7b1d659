using Microsoft.Extensions.Primitives;
using Tapster.Edge;
using Tapster.Edge.Static;

namespace Tapster.Tests.Unit.Edge.StaticServing;

public sealed class StaticHttpTests
{
    [Theory]
    [InlineData("app.css", "text/css; charset=utf-8")]
    [InlineData("index.HTML", "text/html; charset=utf-8")]
    [InlineData("app.3f2a91c0.js", "text/javascript; charset=utf-8")]
    [InlineData("data.json", "application/json; charset=utf-8")]
    [InlineData("logo.svg", "image/svg+xml; charset=utf-8")]
    [InlineData("photo.jpeg", "image/jpeg")]
    [InlineData("font.woff2", "font/woff2")]
    [InlineData("module.wasm", "application/wasm")]
    [InlineData("archive.unknownext", "application/octet-stream")]
    [InlineData("Makefile", "application/octet-stream")]
    public void ContentTypes_For_MapsCommonWebTypes(string name, string expected) =>
        Assert.Equal(expected, ContentTypes.For(name));

    [Theory]
    [InlineData("app.3f2a91c0.css", true)]
    [InlineData("app.3F2A91C0.min.js", true)]
    [InlineData("chunk.0123456789abcdef0123.js", true)]
    [InlineData("app.css", false)]
    [InlineData("app.3f2a91c.css", false)]
    [InlineData("3f2a91c0.css", false)]
    [InlineData("app.css.3f2a91c0", false)]
    [InlineData("app.3f2a91cz.css", false)]
    [InlineData("app-3f2a91c0.css", false)]
    [InlineData("", false)]
    public void Fingerprint_IsFingerprinted_NeedsEightHexDigitsBetweenDots(string name, bool expected) =>
        Assert.Equal(expected, Fingerprint.IsFingerprinted(name));

    [Theory]
    [InlineData("bytes=0-499", "Partial", 0, 500)]
    [InlineData("bytes=500-", "Partial", 500, 500)]
    [InlineData("bytes=-500", "Partial", 500, 500)]
    [InlineData("bytes=-5000", "Partial", 0, 1000)]
    [InlineData("bytes=999-999", "Partial", 999, 1)]
    [InlineData("bytes=900-99999999999999999999999", "Partial", 900, 100)]
    [InlineData("BYTES = 1-2", "Whole", 0, 1000)]
    [InlineData("bytes=5-2", "Whole", 0, 1000)]
    [InlineData("bytes=0-1,5-6", "Whole", 0, 1000)]
    [InlineData("bytes=abc-", "Whole", 0, 1000)]
    [InlineData("bytes=-", "Whole", 0, 1000)]
    [InlineData("bytes=+1-2", "Whole", 0, 1000)]
    [InlineData("items=0-1", "Whole", 0, 1000)]
    [InlineData("bytes=1000-", "Unsatisfiable", 0, 0)]
    [InlineData("bytes=99999999999999999999999-", "Unsatisfiable", 0, 0)]
    [InlineData("bytes=-0", "Unsatisfiable", 0, 0)]
    public void ByteRange_Parse_OfAThousandBytes(string header, string kind, long start, long length) =>
        Assert.Equal(new ByteRange(Enum.Parse<RangeKind>(kind), start, length), ByteRange.Parse(header, 1000));

    [Fact]
    public void ByteRange_Parse_SuffixOfAnEmptyFile_IsUnsatisfiable() =>
        Assert.Equal(RangeKind.Unsatisfiable, ByteRange.Parse("bytes=-10", 0).Kind);

    static readonly DateTime Written = new(2026, 3, 1, 12, 30, 15, 123, DateTimeKind.Utc);

    [Fact]
    public void Validators_ETag_DiffersPerEncodingLengthAndTime()
    {
        var plain = Validators.ETag(Written, 100, null);
        Assert.StartsWith("\"", plain, StringComparison.Ordinal);
        Assert.EndsWith("\"", plain, StringComparison.Ordinal);
        Assert.NotEqual(plain, Validators.ETag(Written, 100, "br"));
        Assert.NotEqual(Validators.ETag(Written, 100, "gzip"), Validators.ETag(Written, 100, "br"));
        Assert.NotEqual(plain, Validators.ETag(Written, 101, null));
        Assert.NotEqual(plain, Validators.ETag(Written.AddMilliseconds(1), 100, null));
    }

    [Fact]
    public void Validators_LastModified_DropsFractionsOfSeconds() =>
        Assert.Equal(new DateTimeOffset(2026, 3, 1, 12, 30, 15, TimeSpan.Zero), Validators.LastModified(Written));

    [Theory]
    [InlineData("\"abc\"", null, true)]
    [InlineData("W/\"abc\"", null, true)]
    [InlineData("\"x\", \"abc\"", null, true)]
    [InlineData("*", null, true)]
    [InlineData("\"x\"", null, false)]
    [InlineData("\"x\"", "Sun, 01 Mar 2026 12:30:15 GMT", false)]
    [InlineData(null, "Sun, 01 Mar 2026 12:30:15 GMT", true)]
    [InlineData(null, "Sun, 01 Mar 2026 13:00:00 GMT", true)]
    [InlineData(null, "Sun, 01 Mar 2026 12:30:14 GMT", false)]
    [InlineData(null, "Sunday, 01-Mar-26 12:30:15 GMT", true)]
    [InlineData(null, "Sun Mar  1 12:30:15 2026", true)]
    [InlineData(null, "Sun Mar  1 12:30:14 2026", false)]
    [InlineData(null, "not a date", false)]
    [InlineData(null, null, false)]
    public void Validators_IsNotModified_IfNoneMatchBeatsIfModifiedSince(string? ifNoneMatch, string? ifModifiedSince, bool expected) =>
        Assert.Equal(expected, Validators.IsNotModified(new StringValues(ifNoneMatch), new StringValues(ifModifiedSince), "\"abc\"", Validators.LastModified(Written)));

    [Theory]
    [InlineData(null, true)]
    [InlineData("\"abc\"", true)]
    [InlineData("\"old\"", false)]
    [InlineData("W/\"abc\"", false)]
    [InlineData("Sun, 01 Mar 2026 12:30:15 GMT", true)]
    [InlineData("Sun, 01 Mar 2026 12:30:16 GMT", false)]
    [InlineData("Sunday, 01-Mar-26 12:30:15 GMT", true)]
    public void Validators_RangeStillValid_NeedsTheExactVersion(string? ifRange, bool expected) =>
        Assert.Equal(expected, Validators.RangeStillValid(new StringValues(ifRange), "\"abc\"", Validators.LastModified(Written)));

    [Theory]
    [InlineData("gzip, deflate, br", "br", true)]
    [InlineData("gzip;q=1.0, br;q=0", "br", false)]
    [InlineData("GZIP", "gzip", true)]
    [InlineData("*", "br", true)]
    [InlineData("*;q=0, gzip", "br", false)]
    [InlineData("br;q=0, *", "br", false)]
    [InlineData("identity", "gzip", false)]
    [InlineData("", "gzip", false)]
    public void AcceptEncoding_Qualities_HonourQualityAndWildcard(string header, string coding, bool expected) =>
        Assert.Equal(expected, AcceptEncoding.Qualities(new StringValues(header), coding, coding).First > 0);
}

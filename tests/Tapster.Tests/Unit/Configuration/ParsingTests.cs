using System.Net;
using Tapster.Configuration;
using Tapster.Edge;

namespace Tapster.Tests.Unit.Configuration;

public sealed class ParsingTests
{
    [Theory]
    [InlineData("30", 30_000)]
    [InlineData("2.5", 2_500)]
    [InlineData("500ms", 500)]
    [InlineData("30s", 30_000)]
    [InlineData("5m", 300_000)]
    [InlineData("1h", 3_600_000)]
    public void Duration_TryParse_AcceptsSecondsAndUnits(string text, int milliseconds)
    {
        Assert.True(Duration.TryParse(text, out var duration));
        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), duration);
    }

    [Theory]
    [InlineData("soon")]
    [InlineData("-3")]
    [InlineData("3 days")]
    [InlineData("")]
    [InlineData("NaN")]
    [InlineData("Infinitys")]
    [InlineData("999999999999999999999s")]
    [InlineData("9223372036854775807")]
    public void Duration_TryParse_RejectsNonsense(string text) => Assert.False(Duration.TryParse(text, out _));

    [Theory]
    [InlineData("127.0.0.1:8000", "127.0.0.1", 8000)]
    [InlineData("0.0.0.0:80", "0.0.0.0", 80)]
    [InlineData(":8080", "0.0.0.0", 8080)]
    [InlineData("[::1]:443", "::1", 443)]
    [InlineData("localhost:9000", "127.0.0.1", 9000)]
    public void BindAddress_TryParse_AcceptsHostPort(string text, string address, int port)
    {
        Assert.True(BindAddress.TryParse(text, out var endPoint, out _));
        Assert.Equal(new IPEndPoint(IPAddress.Parse(address), port), endPoint);
    }

    [Theory]
    [InlineData("8000")]
    [InlineData("example.com:80")]
    [InlineData("127.0.0.1:99999")]
    [InlineData("127.0.0.1:http")]
    public void BindAddress_TryParse_RejectsWithAMessageNamingTheValue(string text)
    {
        Assert.False(BindAddress.TryParse(text, out _, out var error));
        Assert.Contains(text.Split(':')[0], error, StringComparison.Ordinal);
    }

    [Fact]
    public void BindAddress_TryParse_AcceptsAUnixSocketByItsAbsolutePath()
    {
        Assert.True(BindAddress.TryParse("unix:/run/tapster/app.sock", out var endPoint, out _));
        Assert.Equal("/run/tapster/app.sock", Assert.IsType<System.Net.Sockets.UnixDomainSocketEndPoint>(endPoint).ToString());
    }

    [Theory]
    [InlineData("unix:app.sock", "absolute path")]
    [InlineData("unix:", "absolute path")]
    [InlineData("unix:/run/tapster/", "names a directory")]
    [InlineData("unix:/run/\0.sock", "NUL")]
    public void BindAddress_TryParse_RefusesAUnixSocketPathItCannotUse(string text, string reason)
    {
        Assert.False(BindAddress.TryParse(text, out _, out var error));
        Assert.Contains(reason, error, StringComparison.Ordinal);
    }

    [Fact]
    public void BindAddress_TryParse_AcceptsAnInheritedSocketByItsDescriptor()
    {
        Assert.True(BindAddress.TryParse("fd://3", out var endPoint, out _));
        Assert.Equal(3UL, Assert.IsType<Microsoft.AspNetCore.Connections.FileHandleEndPoint>(endPoint).FileHandle);
        Assert.False(BindAddress.TryParse("fd://x", out _, out var error));
        Assert.Contains("fd://N", error, StringComparison.Ordinal);
    }

    [Fact]
    public void BindAddress_TryParse_RefusesAUnixSocketPathLongerThanSunPathHolds()
    {
        Assert.True(BindAddress.TryParse("unix:/" + new string('a', 106), out _, out _));
        Assert.False(BindAddress.TryParse("unix:/" + new string('a', 107), out _, out var error));
        Assert.Contains("107 bytes", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("1234", 1, 1234)]
    [InlineData("512KB", 1, 512_000)]
    [InlineData("512KiB", 1, 524_288)]
    [InlineData("10MB", 1, 10_000_000)]
    [InlineData("1GiB", 1, 1_073_741_824)]
    [InlineData("1.5 mib", 1, 1_572_864)]
    [InlineData("100", 1_048_576, 104_857_600)]
    public void ByteSize_TryParse_AcceptsUnitsAndAPlainNumberInTheGivenUnit(string text, long plainUnit, long bytes)
    {
        Assert.True(ByteSize.TryParse(text, plainUnit, out var parsed));
        Assert.Equal(bytes, parsed);
    }

    [Theory]
    [InlineData("")]
    [InlineData("ten")]
    [InlineData("-1MB")]
    [InlineData("5 parsecs")]
    [InlineData("99999999999999999999999TiB")]
    [InlineData("79228162514264337593543950335")]
    public void ByteSize_TryParse_RejectsNonsense(string text) => Assert.False(ByteSize.TryParse(text, 1, out _));

    [Theory]
    [InlineData(104_857_600, "100MiB")]
    [InlineData(10_000_000, "10MB")]
    [InlineData(1234, "1234")]
    [InlineData(0, "0")]
    public void ByteSize_Format_PicksTheLargestExactUnit(long bytes, string text) => Assert.Equal(text, ByteSize.Format(bytes));

    [Theory]
    [InlineData("threds", "workers.threads")]
    [InlineData("workers.cuont", "workers.count")]
    [InlineData("zzz", null)]
    public void DidYouMean_Suggest_FindsTheNearestKey(string typed, string? expected) =>
        Assert.Equal(expected, DidYouMean.Suggest(typed, [("threads", "workers.threads"), ("workers.count", "workers.count")]));

    [Fact]
    public void DidYouMean_Distance_IsLevenshtein() => Assert.Equal(3, DidYouMean.Distance("kitten", "sitting"));
}

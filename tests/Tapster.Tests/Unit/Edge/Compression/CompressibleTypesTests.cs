using Tapster.Edge.Compression;

namespace Tapster.Tests.Unit.Edge.Compression;

public sealed class CompressibleTypesTests
{
    private static readonly CompressibleTypes Types = new(["text/*", "application/json"]);

    [Theory]
    [InlineData("text/html", true)]
    [InlineData("Text/CSV; charset=utf-8", true)]
    [InlineData("application/json;charset=utf-8", true)]
    [InlineData(" application/json ", true)]
    [InlineData("application/jsonx", false)]
    [InlineData("text/", false)]
    [InlineData("textual/html", false)]
    [InlineData("image/png", false)]
    [InlineData("", false)]
    [InlineData(null, false)]
    public void Contains_MatchesTheMediaTypeWithoutParameters(string? contentType, bool expected) =>
        Assert.Equal(expected, Types.Contains(contentType));

    [Theory]
    [InlineData("text/html")]
    [InlineData("text/*")]
    [InlineData("application/vnd.api+json")]
    public void Check_MediaTypesAndFamilies_AreAccepted(string type) => Assert.Null(CompressibleTypes.Check([type]));

    [Theory]
    [InlineData("html")]
    [InlineData("text/html; charset=utf-8")]
    [InlineData("text/")]
    [InlineData("/json")]
    public void Check_AnythingElse_IsRefusedWithAnExample(string type) =>
        Assert.Contains("type/subtype", CompressibleTypes.Check([type]), StringComparison.Ordinal);

    [Fact]
    public void DefaultTypes_AreAllValid() => Assert.Null(CompressibleTypes.Check(CompressionSettings.DefaultTypes));
}

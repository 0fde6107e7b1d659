using System.Text;
using Tapster.Edge;

namespace Tapster.Tests.Unit.Edge;

public sealed class ContentLengthEncodingTests
{
    [Theory]
    [InlineData("5", "5")]
    [InlineData("0123456789", "0123456789")]
    [InlineData(" \t5\t ", " \t5\t ")]
    [InlineData("+5", "x5")]
    [InlineData("-0", "x0")]
    [InlineData("5\v", "5x")]
    [InlineData("0X5", "0x5")]
    [InlineData("\u00d9\u00a5", "xx")]
    public void OnlyDigitsSpacesAndTabsDecodeAsThemselves(string latin1, string decoded)
    {
        Assert.Equal(decoded, ContentLengthEncoding.Instance.GetString(Encoding.Latin1.GetBytes(latin1)));
    }

    [Fact]
    public void AValueLongerThanTheRoomGivenFillsItWithRefusedCharacters()
    {
        var bytes = Encoding.ASCII.GetBytes(new string('0', 20) + "5");
        Span<char> room = stackalloc char[20];

        var written = ContentLengthEncoding.Instance.GetChars(bytes, room);

        Assert.Equal(20, written);
        Assert.Equal(new string('x', 20), room.ToString());
    }
}

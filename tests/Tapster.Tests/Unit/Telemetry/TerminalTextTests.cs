using Tapster.Telemetry;

namespace Tapster.Tests.Unit.Telemetry;

public sealed class TerminalTextTests
{
    [Theory]
    [InlineData("/plain/path?q=1", "/plain/path?q=1")]
    [InlineData("caf\u00e9 \u65e5\u672c \U0001F468\u200D\U0001F469", "caf\u00e9 \u65e5\u672c \U0001F468\u200D\U0001F469")]
    [InlineData("a\nb\r\e[2J\u0085", "a\\x0ab\\x0d\\x1b[2J\\x85")]
    [InlineData("/admin\u202e// \u2066x\u2069", "/admin\\u202e// \\u2066x\\u2069")]
    [InlineData("line\u2028two", "line\\u2028two")]
    public void OutsideTextShowsControlsBidiOverridesAndSeparatorsEscapedAndTheRestAsIs(string text, string shown)
    {
        Assert.Equal(shown, TerminalText.Sanitize(text));
    }
}

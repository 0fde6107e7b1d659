using Tapster.Telemetry;

namespace Tapster.Tests.Unit.Telemetry;

public class AppOutputTests
{
    static List<string> Lines(string text) => [.. AppOutput.ReadLines(new StringReader(text))];

    [Fact]
    public void Lines_end_at_LF_with_a_CR_before_it_dropped_and_the_last_unterminated_line_kept() =>
        Assert.Equal(["a", "b", "c"], Lines("a\nb\r\nc"));

    [Fact]
    public void A_lone_CR_such_as_a_progress_bar_redraw_stays_inside_its_line() =>
        Assert.Equal(["10%\r20%\r30%"], Lines("10%\r20%\r30%\n"));

    [Fact]
    public void A_huge_line_is_cut_while_it_is_read_and_the_next_line_is_whole()
    {
        var lines = Lines(new string('A', 5_000_000) + "\nnext\n");

        Assert.Equal(2, lines.Count);
        Assert.Equal(16 * 1024 + 1, lines[0].Length); // one char past the limit: Write marks the cut with "..."
        Assert.Equal("next", lines[1]);
    }
}

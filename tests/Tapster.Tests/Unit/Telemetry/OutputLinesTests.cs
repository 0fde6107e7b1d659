using System.Text;
using Tapster.Telemetry;

namespace Tapster.Tests.Unit.Telemetry;

public class OutputLinesTests
{
    /// <summary>The lines of <paramref name="text"/>'s UTF-8 bytes, arriving <paramref name="chunk"/> bytes at a time.</summary>
    static List<string> Lines(string text, int chunk = 4096)
    {
        var lines = new List<string>();
        var splitter = new OutputLines(lines.Add);
        var bytes = Encoding.UTF8.GetBytes(text);
        for (var i = 0; i < bytes.Length; i += chunk)
        {
            splitter.Append(bytes.AsSpan(i, Math.Min(chunk, bytes.Length - i)));
        }

        splitter.Finish();
        return lines;
    }

    [Fact]
    public void Lines_end_at_LF_with_a_CR_before_it_dropped_and_the_last_unterminated_line_kept() =>
        Assert.Equal(["a", "b", "c"], Lines("a\nb\r\nc"));

    [Fact]
    public void A_lone_CR_such_as_a_progress_bar_redraw_stays_inside_its_line() =>
        Assert.Equal(["10%\r20%\r30%"], Lines("10%\r20%\r30%\n"));

    [Fact]
    public void A_character_split_between_two_reads_stays_whole() =>
        Assert.Equal(["caf\u00e9 \u65e5\u672c \U0001F600", "next"], Lines("caf\u00e9 \u65e5\u672c \U0001F600\nnext\n", chunk: 1));

    [Fact]
    public void Bytes_that_are_not_UTF_8_become_replacement_characters()
    {
        var lines = new List<string>();
        var splitter = new OutputLines(lines.Add);
        splitter.Append([(byte)'a', 0xff, (byte)'b', (byte)'\n']);
        splitter.Finish();
        Assert.Equal(["a\ufffdb"], lines);
    }

    [Fact]
    public void A_huge_line_is_cut_while_it_is_read_and_the_next_line_is_whole()
    {
        var lines = Lines(new string('A', 5_000_000) + "\nnext\n");

        Assert.Equal(2, lines.Count);
        Assert.Equal(OutputLines.MaxLineChars + 1, lines[0].Length); // one char past the limit: AppOutput marks the cut with "..."
        Assert.Equal("next", lines[1]);
    }
}

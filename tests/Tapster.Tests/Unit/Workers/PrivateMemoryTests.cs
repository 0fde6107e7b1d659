using Tapster.Workers;

namespace Tapster.Tests.Unit.Workers;

public class PrivateMemoryTests
{
    private const string Rollup = """
        55d4c6a2e000-7ffd3a1fe000 ---p 00000000 00:00 0                          [rollup]
        Rss:               31520 kB
        Pss:               12894 kB
        Pss_Dirty:          9021 kB
        Shared_Clean:      15800 kB
        Shared_Dirty:       5600 kB
        Private_Clean:       412 kB
        Private_Dirty:      9708 kB
        Referenced:        31520 kB
        Anonymous:         12400 kB
        Swap:                  0 kB
        SwapPss:               0 kB
        Locked:                0 kB
        """;

    [Fact]
    public void Private_memory_is_the_clean_and_dirty_private_pages_in_bytes()
    {
        Assert.Equal((412L + 9708) * 1024, PrivateMemory.Parse(Rollup));
    }

    [Theory]
    [InlineData("")]
    [InlineData("Rss: 100 kB\nPss: 50 kB\n")]
    [InlineData("Private_Clean: lots kB\nPrivate_Dirty: 1 kB\n")]
    [InlineData("Private_Clean: 12 MB\n")]
    [InlineData("Private_Clean: -12 kB\n")]
    public void A_rollup_without_readable_private_fields_gives_nothing(string text)
    {
        Assert.Null(PrivateMemory.Parse(text));
    }

    [Fact]
    public void This_process_has_private_memory_and_a_gone_one_has_none()
    {
        Assert.True(PrivateMemory.Of(Environment.ProcessId) > 1024 * 1024);
        Assert.Null(PrivateMemory.Of(int.MaxValue));
    }
}

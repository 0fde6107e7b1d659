namespace Tapster.Tests.Unit;

public sealed class StartupTrimTests
{
    private const string Binary = "/opt/tapster/tapster";

    private static string Mapping(string range, string perms, string path, int anonymousKb) => $"""
        {range} {perms} 00014000 fe:00 5308553                    {path}
        Size:               7252 kB
        Rss:                6248 kB
        Anonymous:          {anonymousKb} kB
        VmFlags: rd ex mr mw me sd
        """;

    [Fact]
    public void ReadOnlyMappingsOfTheBinaryWithoutChangedPagesAreDropped()
    {
        var smaps = Mapping("55c5bc8e9000-55c5bcffe000", "r-xp", Binary, 0) + "\n" + Mapping("55c5bcffe000-55c5bd357000", "r--p", Binary, 0);

        var ranges = StartupTrim.DroppableRanges(smaps, Binary);

        Assert.Equal([(unchecked((nint)0x55c5bc8e9000), (nuint)0x715000), (unchecked((nint)0x55c5bcffe000), (nuint)0x359000)], ranges);
    }

    [Fact]
    public void AMappingWithARelocatedPageIsKept()
    {
        var smaps = Mapping("55c5bd358000-55c5bd63a000", "r--p", Binary, 4);

        Assert.Empty(StartupTrim.DroppableRanges(smaps, Binary));
    }

    [Theory]
    [InlineData("rw-p", Binary)]
    [InlineData("---p", Binary)]
    [InlineData("r-xp", "/usr/lib/x86_64-linux-gnu/libc.so.6")]
    [InlineData("r-xp", "/other" + Binary)]
    [InlineData("r-xp", Binary + " (deleted)")]
    public void WritableUnreadableForeignOrReplacedMappingsAreKept(string perms, string path)
    {
        var smaps = Mapping("55c5bc8e9000-55c5bcffe000", perms, path, 0);

        Assert.Empty(StartupTrim.DroppableRanges(smaps, Binary));
    }

    [Fact]
    public void AnonymousLineOfAnotherMappingDoesNotCountForTheBinary()
    {
        // The binary's mapping has no Anonymous line of its own (an older kernel): nothing is assumed.
        var smaps = $"""
            55c5bc8e9000-55c5bcffe000 r-xp 00014000 fe:00 5308553  {Binary}
            Rss:                6248 kB
            7f0000000000-7f0000001000 rw-p 00000000 00:00 0
            Anonymous:             0 kB
            """;

        Assert.Empty(StartupTrim.DroppableRanges(smaps, Binary));
    }

    [Fact]
    public void TrimmingTheRunningProcessDropsItsExecutablesResidentPages()
    {
        var self = Environment.ProcessPath!;
        Assert.NotEmpty(StartupTrim.DroppableRanges(File.ReadAllText("/proc/self/smaps"), self));
        var before = ResidentKilobytes(self);

        StartupTrim.Run();

        // The host's code is not running now (its main waits below us), so its pages stay out.
        Assert.True(ResidentKilobytes(self) < before, $"{ResidentKilobytes(self)} kB resident after, {before} kB before");
    }

    /// <summary>Rss summed over the read-only mappings of path.</summary>
    private static int ResidentKilobytes(string path)
    {
        var total = 0;
        var counting = false;
        foreach (var line in File.ReadLines("/proc/self/smaps"))
        {
            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length == 0)
            {
                continue;
            }

            if (!fields[0].EndsWith(':'))
            {
                // A mapping's header: "start-end perms offset dev inode [path]".
                counting = fields.Length >= 6 && fields[^1] == path && fields[1][1] == '-';
            }
            else if (counting && fields[0] == "Rss:")
            {
                total += int.Parse(fields[1], System.Globalization.CultureInfo.InvariantCulture);
            }
        }

        return total;
    }
}

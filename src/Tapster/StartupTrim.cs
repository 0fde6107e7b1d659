using System.Globalization;
using System.Runtime.InteropServices;

namespace Tapster;

/// <summary>
/// Gives back, once the server is up, the memory that only starting it needed.
///
/// Starting touches a lot that serving never touches again: parsing the command line and the config,
/// building the host, binding. Two kinds of memory stay resident afterwards:
/// <list type="bullet">
/// <item>Heap: the objects startup left behind and the GC regions they filled. One aggressive
/// collection compacts the survivors and returns the emptied regions to the kernel.</item>
/// <item>Code and read-only data of our own executable. The kernel maps file pages in 64 KB runs, so
/// after startup most of the binary is resident, about 10 MiB of 14. Dropping those page-table entries
/// (the pages stay in the page cache) lets the code serving requests fault back in and the rest stay
/// out: about 3 MiB less, and a minor fault, once, for each run of hot code.</item>
/// </list>
/// Only mappings that cannot hold a changed page are dropped: not writable, and no private copies
/// (a relocated page would be one, and dropping it would lose the relocation).
/// </summary>
internal static partial class StartupTrim
{
    private const int MadviseDontNeed = 4;

    public static void Run()
    {
        GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        if (!OperatingSystem.IsLinux() || Environment.ProcessPath is not { } self)
        {
            return;
        }

        string smaps;
        try
        {
            smaps = File.ReadAllText("/proc/self/smaps");
        }
        catch (IOException)
        {
            return; // no /proc (an unusual sandbox): nothing to trim
        }
        catch (UnauthorizedAccessException)
        {
            return;
        }

        foreach (var (start, length) in DroppableRanges(smaps, self))
        {
            // Advice only: on failure the pages simply stay resident.
            _ = Madvise(start, length, MadviseDontNeed);
        }
    }

    /// <summary>The mappings of <paramref name="path"/> in smaps text that are safe to drop: read-only
    /// and without a private (changed) page.</summary>
    internal static List<(nint Start, nuint Length)> DroppableRanges(string smaps, string path)
    {
        var ranges = new List<(nint, nuint)>();
        (nint Start, nuint Length)? current = null;
        foreach (var line in smaps.AsSpan().EnumerateLines())
        {
            if (TryParseMappingHeader(line, path, out var mapping))
            {
                current = mapping;
            }
            else if (line.StartsWith("VmFlags:", StringComparison.Ordinal))
            {
                current = null; // the last field of a mapping: the next line starts another
            }
            else if (current is { } candidate && line.StartsWith("Anonymous:", StringComparison.Ordinal))
            {
                if (IsZeroKilobytes(line["Anonymous:".Length..]))
                {
                    ranges.Add(candidate);
                }

                current = null;
            }
        }

        return ranges;
    }

    /// <summary>"start-end perms offset dev inode path": true for a readable, non-writable mapping of path.</summary>
    private static bool TryParseMappingHeader(ReadOnlySpan<char> line, string path, out (nint Start, nuint Length) mapping)
    {
        mapping = default;
        var dash = line.IndexOf('-');
        var space = line.IndexOf(' ');
        if (dash <= 0 || space <= dash || line.Length < space + 5 || !line.TrimEnd().EndsWith(path, StringComparison.Ordinal))
        {
            return false;
        }

        var perms = line.Slice(space + 1, 4);
        if (perms[0] != 'r' || perms[1] != '-' || line.TrimEnd()[..^path.Length] is not [.., ' '])
        {
            return false;
        }

        if (!ulong.TryParse(line[..dash], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var start)
            || !ulong.TryParse(line[(dash + 1)..space], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var end)
            || end <= start)
        {
            return false;
        }

        mapping = ((nint)start, (nuint)(end - start));
        return true;
    }

    private static bool IsZeroKilobytes(ReadOnlySpan<char> value) => value.Trim() is "0 kB";

    [LibraryImport("libc", EntryPoint = "madvise")]
    private static partial int Madvise(nint address, nuint length, int advice);
}

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
            if (IsMappingHeader(line))
            {
                current = ReadOnlyMappingOf(line, path);
            }
            else if (current is { } candidate && line.StartsWith("Anonymous:", StringComparison.Ordinal))
            {
                if (line["Anonymous:".Length..].Trim() is "0 kB")
                {
                    ranges.Add(candidate);
                }

                current = null;
            }
        }

        return ranges;
    }

    /// <summary>A mapping's first line, "start-end perms offset dev inode [path]"; the lines of its fields start with "Name:".</summary>
    private static bool IsMappingHeader(ReadOnlySpan<char> line)
    {
        var firstField = line[..Math.Max(0, line.IndexOf(' '))];
        return firstField.Contains('-') && !firstField.EndsWith(':');
    }

    /// <summary>The range of a readable, non-writable mapping of path; null for any other mapping.</summary>
    private static (nint Start, nuint Length)? ReadOnlyMappingOf(ReadOnlySpan<char> header, string path)
    {
        var dash = header.IndexOf('-');
        var space = header.IndexOf(' ');
        var text = header.TrimEnd();
        if (text.Length < space + 5 || !text.EndsWith(path, StringComparison.Ordinal) || text[..^path.Length] is not [.., ' '])
        {
            return null;
        }

        var perms = header.Slice(space + 1, 4);
        if (perms[0] != 'r' || perms[1] != '-'
            || !ulong.TryParse(header[..dash], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var start)
            || !ulong.TryParse(header[(dash + 1)..space], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var end)
            || end <= start)
        {
            return null;
        }

        return ((nint)start, (nuint)(end - start));
    }

    [LibraryImport("libc", EntryPoint = "madvise")]
    private static partial int Madvise(nint address, nuint length, int advice);
}

using System.Runtime.InteropServices;
using System.Text;

namespace Tapster.Edge.Static;

/// <summary>
/// realpath(3): the path with every symlink, <c>.</c> and <c>..</c> resolved, which is what must stay
/// under a static root. .NET has no public API that resolves every component, only the last one.
/// </summary>
internal static partial class RealPath
{
    /// <summary>Linux's PATH_MAX: realpath writes at most this many bytes.</summary>
    private const int PathMax = 4096;

    /// <summary>The resolved path, or null when some component does not exist or cannot be read.</summary>
    public static unsafe string? Resolve(string path)
    {
        var buffer = stackalloc byte[PathMax];
        var resolved = NativeRealPath(path, buffer);
        return resolved is null ? null : Encoding.UTF8.GetString(MemoryMarshal.CreateReadOnlySpanFromNullTerminated(resolved));
    }

    [LibraryImport("libc", EntryPoint = "realpath", StringMarshalling = StringMarshalling.Utf8)]
    private static unsafe partial byte* NativeRealPath(string path, byte* resolved);
}

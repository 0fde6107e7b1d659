using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace Tapster.Secrets;

/// <summary>
/// Replaces a file so that a crash at any point leaves either the old content or the new, never a mix:
/// write a temporary file in the same directory (so the rename cannot cross file systems), fsync it,
/// rename it over the target, fsync the directory so the rename itself survives a power cut.
/// </summary>
internal static partial class AtomicFile
{
    public const UnixFileMode PrivateFile = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    public const UnixFileMode PrivateDirectory = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    /// <summary>Writes <paramref name="content"/> to <paramref name="path"/> (mode 0600), replacing any old file.</summary>
    public static void Replace(string path, ReadOnlySpan<byte> content) => Write(path, content, overwrite: true, OpenTemporary);

    /// <summary>Like <see cref="Replace(string, ReadOnlySpan{byte})"/>, but fails if <paramref name="path"/> exists: a key file is never overwritten by accident.</summary>
    public static void CreateNew(string path, ReadOnlySpan<byte> content) => Write(path, content, overwrite: false, OpenTemporary);

    /// <summary>The same, with the temporary file opened by <paramref name="openTemporary"/>: tests inject a stream that fails midway.</summary>
    internal static void Write(string path, ReadOnlySpan<byte> content, bool overwrite, Func<string, Stream> openTemporary)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        EnsurePrivateDirectory(directory);
        var temporary = Path.Combine(directory, $".{Path.GetFileName(path)}.{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6))}.tmp");
        try
        {
            using (var stream = openTemporary(temporary))
            {
                stream.Write(content);
                if (stream is FileStream file)
                {
                    file.Flush(flushToDisk: true);
                }
                else
                {
                    stream.Flush();
                }
            }

            File.Move(temporary, path, overwrite);
        }
        catch
        {
            File.Delete(temporary);
            throw;
        }

        SyncDirectory(directory);
    }

    /// <summary>
    /// Creates <paramref name="directory"/>, and each missing parent, as 0700 (creating them all at
    /// once would give the parents the umask's 0755); existing ones (maybe the app's own) are left as they are.
    /// </summary>
    public static void EnsurePrivateDirectory(string directory)
    {
        if (Directory.Exists(directory))
        {
            return;
        }

        if (Path.GetDirectoryName(directory) is { } parent)
        {
            EnsurePrivateDirectory(parent);
        }

        Directory.CreateDirectory(directory, PrivateDirectory);
    }

    internal static FileStream OpenTemporary(string path) => new(path, new FileStreamOptions
    {
        Mode = FileMode.CreateNew,
        Access = FileAccess.Write,
        Share = FileShare.None,
        UnixCreateMode = PrivateFile,
    });

    // Best effort: a file system that cannot sync a directory still renamed atomically, only less durably.
    private static void SyncDirectory(string directory)
    {
        var fd = Open(directory, 0 /* O_RDONLY */);
        if (fd >= 0)
        {
            _ = Fsync(fd);
            _ = Close(fd);
        }
    }

    [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync")]
    private static partial int Fsync(int fd);

    [LibraryImport("libc", EntryPoint = "close")]
    private static partial int Close(int fd);
}

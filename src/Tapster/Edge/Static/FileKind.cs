using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Tapster.Edge.Static;

/// <summary>
/// The type of a file system entry, from statx(2). .NET reports a FIFO, a socket or a device as an
/// ordinary file of length 0, and opening a FIFO to read blocks until a writer comes: a pipe left in a
/// static directory would hang each request for it on a thread-pool thread. statx, unlike stat, has one
/// layout on every architecture.
/// </summary>
internal static partial class FileKind
{
    public enum Kind
    {
        Missing,
        Regular,
        Directory,

        /// <summary>A FIFO, a socket or a device.</summary>
        Special,
    }

    private const int AtCurrentDirectory = -100;
    private const int AtEmptyPath = 0x1000;
    private const uint TypeAndInodeWanted = 0x1 | 0x100; // STATX_TYPE | STATX_INO
    private const int ModeOffset = 28; // stx_mode, a u16 after mask, blksize, attributes, nlink, uid, gid
    private const int InodeOffset = 32; // stx_ino, a u64 after the mode and its padding
    private const int TypeMask = 0xF000, RegularType = 0x8000, DirectoryType = 0x4000;

    /// <summary>What <paramref name="path"/> (symlinks followed) is.</summary>
    public static unsafe Kind Of(string path)
    {
        var buffer = stackalloc byte[256]; // sizeof(struct statx)
        return Statx(AtCurrentDirectory, path, 0, TypeAndInodeWanted, buffer) == 0 ? KindIn(buffer) : Kind.Missing;
    }

    /// <summary>What the open file <paramref name="handle"/> is, and its inode number.</summary>
    public static unsafe (Kind Kind, ulong Inode) Of(SafeFileHandle handle)
    {
        var buffer = stackalloc byte[256];
        var added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            if (Statx((int)handle.DangerousGetHandle(), "", AtEmptyPath, TypeAndInodeWanted, buffer) != 0)
            {
                return (Kind.Missing, 0);
            }
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }

        return (KindIn(buffer), BinaryPrimitives.ReadUInt64LittleEndian(new ReadOnlySpan<byte>(buffer + InodeOffset, 8)));
    }

    private static unsafe Kind KindIn(byte* statx) =>
        (BinaryPrimitives.ReadUInt16LittleEndian(new ReadOnlySpan<byte>(statx + ModeOffset, 2)) & TypeMask) switch
        {
            RegularType => Kind.Regular,
            DirectoryType => Kind.Directory,
            _ => Kind.Special,
        };

    [LibraryImport("libc", EntryPoint = "statx", StringMarshalling = StringMarshalling.Utf8)]
    private static unsafe partial int Statx(int directory, string path, int flags, uint mask, byte* buffer);
}

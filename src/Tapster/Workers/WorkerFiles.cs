using System.Globalization;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using Tapster.Edge.Static;

namespace Tapster.Workers;

/// <summary>
/// A worker's open file taken over by Tapster to send it (<c>wsgi.file_wrapper</c>), with no more right
/// to it than the worker had. <c>pidfd_getfd</c> (Linux 5.6) duplicates the worker's descriptor itself,
/// with the access it was opened with. Reopening <c>/proc/PID/fd/N</c>, as Tapster did before, opens
/// the file afresh with Tapster's own rights: a worker that had dropped its privileges could hand over
/// an <c>O_PATH</c> or write-only descriptor of a file it may not read, and have Tapster read it. Where
/// <c>pidfd_getfd</c> is refused (a container's seccomp profile, YAMA ptrace scope 2), the reopen is
/// kept, but only for a descriptor the worker opened for reading, and only if it still names the same
/// file once opened. Either way only a regular file is taken.
/// </summary>
internal static partial class WorkerFiles
{
    private const int AccessModeMask = 0x3, WriteOnly = 0x1, PathOnly = 0x200000; // O_ACCMODE, O_WRONLY, O_PATH
    private const int NoSuchDescriptor = 9; // EBADF
    private const int GetFlags = 3; // F_GETFL

    /// <exception cref="IOException">The descriptor cannot be taken; the message says why.</exception>
    public static SafeFileHandle Take(SafeFileHandle? process, int pid, int fd)
    {
        var handle = (process is null ? null : Duplicate(process, fd)) ?? Reopen(pid, fd);
        if (FileKind.Of(handle).Kind != FileKind.Kind.Regular)
        {
            handle.Dispose();
            throw new IOException($"descriptor {fd} is not a regular file");
        }

        return handle;
    }

    /// <summary>The worker's own descriptor; null when this kernel or sandbox does not allow it.</summary>
    private static SafeFileHandle? Duplicate(SafeFileHandle process, int fd)
    {
        int taken;
        try
        {
            taken = PidfdGetfd(process, fd, 0);
        }
        catch (Exception e) when (e is EntryPointNotFoundException or ObjectDisposedException)
        {
            return null;
        }

        if (taken >= 0)
        {
            var handle = new SafeFileHandle(taken, ownsHandle: true);
            try
            {
                EnsureReadable(Fcntl(handle, GetFlags), fd);
            }
            catch (IOException)
            {
                handle.Dispose();
                throw;
            }

            return handle;
        }

        return Marshal.GetLastPInvokeError() == NoSuchDescriptor ? throw new IOException($"the worker has no descriptor {fd}") : null;
    }

    private static SafeFileHandle Reopen(int pid, int fd)
    {
        var (flags, inode) = DescriptorInfo(pid, fd);
        EnsureReadable(flags, fd);

        var handle = File.OpenHandle($"/proc/{pid}/fd/{fd}", FileMode.Open, FileAccess.Read);
        if (FileKind.Of(handle).Inode != inode)
        {
            // Another file was put under that number between the two looks.
            handle.Dispose();
            throw new IOException($"descriptor {fd} changed while it was opened");
        }

        return handle;
    }

    /// <summary>A descriptor opened with O_PATH or write-only is no leave to read the file.</summary>
    private static void EnsureReadable(int flags, int fd)
    {
        if (flags < 0 || (flags & PathOnly) != 0 || (flags & AccessModeMask) == WriteOnly)
        {
            throw new IOException($"descriptor {fd} is not open for reading");
        }
    }

    /// <summary>The open flags and inode of a worker's descriptor, from /proc/PID/fdinfo/N.</summary>
    private static (int Flags, ulong Inode) DescriptorInfo(int pid, int fd)
    {
        int? flags = null;
        ulong? inode = null;
        foreach (var line in File.ReadLines($"/proc/{pid}/fdinfo/{fd}"))
        {
            if (line.StartsWith("flags:", StringComparison.Ordinal))
            {
                flags = Convert.ToInt32(line["flags:".Length..].Trim(), 8);
            }
            else if (line.StartsWith("ino:", StringComparison.Ordinal))
            {
                inode = ulong.Parse(line["ino:".Length..].Trim(), CultureInfo.InvariantCulture);
            }
        }

        return flags is { } f && inode is { } i ? (f, i) : throw new IOException($"cannot tell how descriptor {fd} was opened");
    }

    [LibraryImport("libc", EntryPoint = "fcntl", SetLastError = true)]
    private static partial int Fcntl(SafeFileHandle fd, int command);

    [LibraryImport("libc", EntryPoint = "pidfd_getfd", SetLastError = true)]
    private static partial int PidfdGetfd(SafeFileHandle pidfd, int targetFd, uint flags);
}

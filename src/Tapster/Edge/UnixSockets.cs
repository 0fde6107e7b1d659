using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Tapster.Edge;

/// <summary>
/// The <c>unix:PATH</c> listeners. Tapster binds them itself and hands Kestrel the listening
/// descriptors, so that each file has its mode (0660: Tapster's user and group, which a proxy on this
/// machine joins) before listen(): whatever the umask, no one else can connect, not even for a moment.
/// A socket file left by a run that died is replaced; one another server still answers on is refused.
/// The files go when Tapster stops.
/// </summary>
internal sealed partial class UnixSockets : IDisposable
{
    private const UnixFileMode Mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite;

    /// <summary>Kestrel's own default.</summary>
    private const int Backlog = 512;

    private readonly Dictionary<string, (Socket Socket, ulong Inode)> _bound = new(StringComparer.Ordinal);

    private UnixSockets()
    {
    }

    /// <exception cref="IOException">One cannot be bound (none is then); the message says why, naming its path.</exception>
    public static UnixSockets Bind(IEnumerable<string> paths)
    {
        var sockets = new UnixSockets();
        try
        {
            foreach (var path in paths)
            {
                sockets.Add(path);
            }

            return sockets;
        }
        catch
        {
            sockets.Dispose();
            throw;
        }
    }

    /// <summary>A duplicate of the listening descriptor for <paramref name="path"/>, for Kestrel's ListenHandle, which closes it when it stops.</summary>
    public ulong HandOver(string path)
    {
        const int DuplicateCloseOnExec = 1030; // F_DUPFD_CLOEXEC: no Python child inherits it
        var duplicate = Fcntl(_bound[path].Socket.SafeHandle, DuplicateCloseOnExec, 0);
        return duplicate >= 0 ? (ulong)duplicate
            : throw new IOException($"cannot listen on unix:{path}: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");
    }

    /// <summary>Removes the socket files, but not one another process has put in the place of ours.</summary>
    public void Dispose()
    {
        foreach (var (path, (socket, inode)) in _bound)
        {
            socket.Dispose();
            try
            {
                if (Identify(path) is { IsSocket: true } file && file.Inode == inode)
                {
                    File.Delete(path);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Gone already, or no longer ours to remove: the next run replaces a stale file.
            }
        }

        _bound.Clear();
    }

    private void Add(string path)
    {
        var directory = Path.GetDirectoryName(path)!;
        if (!Directory.Exists(directory))
        {
            throw new IOException($"cannot listen on unix:{path}: the directory {directory} does not exist");
        }

        if (_bound.ContainsKey(path))
        {
            throw new IOException($"cannot listen on unix:{path}: it is given twice");
        }

        RemoveStale(path);
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            socket.Bind(new UnixDomainSocketEndPoint(path));
            File.SetUnixFileMode(path, Mode);
            socket.Listen(Backlog);
            _bound[path] = (socket, Identify(path)?.Inode ?? 0);
        }
        catch (Exception e) when (e is SocketException or IOException or UnauthorizedAccessException)
        {
            socket.Dispose();
            var reason = e is SocketException { SocketErrorCode: SocketError.AccessDenied } or UnauthorizedAccessException ? "permission denied" : e.Message;
            throw new IOException($"cannot listen on unix:{path}: {reason}", e);
        }
    }

    /// <summary>A socket file nobody answers on is what a run that died leaves; anything else stays.</summary>
    private static void RemoveStale(string path)
    {
        if (Identify(path) is not { } existing)
        {
            return;
        }

        if (!existing.IsSocket)
        {
            throw new IOException($"cannot listen on unix:{path}: it exists and is not a socket");
        }

        using var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            probe.Connect(new UnixDomainSocketEndPoint(path));
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionRefused)
        {
            File.Delete(path);
            return;
        }
        catch (SocketException e)
        {
            throw new IOException($"cannot listen on unix:{path}: {e.Message}", e);
        }

        throw new IOException($"cannot listen on unix:{path}: another server is listening on it");
    }

    /// <summary>
    /// What is at <paramref name="path"/> itself (a symlink is not followed), or null when nothing is.
    /// statx, because its buffer has the same layout on every architecture, unlike stat's.
    /// </summary>
    private static (bool IsSocket, ulong Inode)? Identify(string path)
    {
        const int AtFdCwd = -100, AtSymlinkNoFollow = 0x100, StatxType = 0x1, StatxIno = 0x100, Enoent = 2;
        const int ModeOffset = 28, InodeOffset = 32, TypeMask = 0xF000, SocketType = 0xC000;
        Span<byte> buffer = stackalloc byte[256];
        if (Statx(AtFdCwd, path, AtSymlinkNoFollow, StatxType | StatxIno, ref MemoryMarshal.GetReference(buffer)) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            return errno == Enoent ? null : throw new IOException($"cannot listen on unix:{path}: {Marshal.GetPInvokeErrorMessage(errno)}");
        }

        var mode = MemoryMarshal.Read<ushort>(buffer[ModeOffset..]);
        return ((mode & TypeMask) == SocketType, MemoryMarshal.Read<ulong>(buffer[InodeOffset..]));
    }

    [LibraryImport("libc", EntryPoint = "fcntl", SetLastError = true)]
    private static partial int Fcntl(SafeHandle descriptor, int command, int argument);

    [LibraryImport("libc", EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Statx(int directory, string path, int flags, uint mask, ref byte buffer);
}

using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Microsoft.AspNetCore.Connections;

namespace Tapster.Edge;

/// <summary>
/// The <c>fd://N</c> listeners: listening sockets Tapster was started with, as systemd passes them under
/// socket activation (<c>ListenStream=</c> in a .socket unit, from descriptor 3 on). systemd holds the
/// port while Tapster restarts, so connections wait in the backlog instead of being refused, and binds
/// ports below 1024 for a Tapster that runs unprivileged. Each is checked before anything starts and
/// marked close-on-exec, so that no Python process inherits it: a worker holding one would keep the port
/// open after Tapster stopped.
/// </summary>
internal static partial class InheritedSockets
{
    private const int SolSocket = 1, SoType = 3, SoAcceptConn = 30, SockStream = 1;
    private const int SetDescriptorFlags = 2, CloseOnExec = 1;
    private const int BadDescriptor = 9, NotASocket = 88;

    /// <summary>Null when every one is a listening stream socket, now close-on-exec; else why not, in one line.</summary>
    public static string? Adopt(IEnumerable<(FileHandleEndPoint EndPoint, string Text)> binds)
    {
        foreach (var (endPoint, text) in binds)
        {
            var fd = (int)endPoint.FileHandle;
            if (Option(fd, SoAcceptConn) is not { } listening)
            {
                return Marshal.GetLastPInvokeError() switch
                {
                    BadDescriptor => $"cannot listen on {text}: Tapster was not started with descriptor {fd} open (a systemd .socket unit passes its sockets from 3 on)",
                    NotASocket => $"cannot listen on {text}: descriptor {fd} is not a socket",
                    var errno => $"cannot listen on {text}: {Marshal.GetPInvokeErrorMessage(errno)}",
                };
            }

            if (listening == 0 || Option(fd, SoType) != SockStream)
            {
                return $"cannot listen on {text}: socket {fd} is not a listening stream socket (systemd's ListenStream=)";
            }

            if (Fcntl(fd, SetDescriptorFlags, CloseOnExec) != 0)
            {
                return $"cannot listen on {text}: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}";
            }
        }

        return null;
    }

    /// <summary>The TCP port an adopted socket listens on; null for another kind (a Unix socket).</summary>
    public static int? LocalPort(FileHandleEndPoint endPoint)
    {
        const int InternetV4 = 2, InternetV6 = 10;
        Span<byte> address = stackalloc byte[128];
        var size = address.Length;
        if (GetSockName((int)endPoint.FileHandle, ref MemoryMarshal.GetReference(address), ref size) != 0)
        {
            return null;
        }

        // sockaddr_in and sockaddr_in6 both start with the family (host order) and the port (network order).
        return MemoryMarshal.Read<ushort>(address) is InternetV4 or InternetV6 ? BinaryPrimitives.ReadUInt16BigEndian(address[2..]) : null;
    }

    private static int? Option(int fd, int name)
    {
        var value = 0;
        var size = sizeof(int);
        return GetSockOpt(fd, SolSocket, name, ref value, ref size) == 0 ? value : null;
    }

    [LibraryImport("libc", EntryPoint = "getsockopt", SetLastError = true)]
    private static partial int GetSockOpt(int fd, int level, int name, ref int value, ref int size);

    [LibraryImport("libc", EntryPoint = "getsockname", SetLastError = true)]
    private static partial int GetSockName(int fd, ref byte address, ref int size);

    [LibraryImport("libc", EntryPoint = "fcntl", SetLastError = true)]
    private static partial int Fcntl(int fd, int command, int argument);
}

using System.Buffers.Binary;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Tapster.Workers;

/// <summary>The kernel's word on who is at the other end of a Unix socket (SO_PEERCRED): pid and uid.</summary>
internal static partial class PeerCredentials
{
    private const int SolSocket = 1;
    private const int SoPeerCred = 17;

    public static uint CurrentUid { get; } = GetUid();

    public static (int Pid, uint Uid) Of(Socket socket)
    {
        // struct ucred { pid_t pid; uid_t uid; gid_t gid; }
        Span<byte> ucred = stackalloc byte[12];
        var length = socket.GetRawSocketOption(SolSocket, SoPeerCred, ucred);
        if (length < 8)
        {
            throw new SocketException((int)SocketError.ProtocolNotSupported);
        }

        return (BinaryPrimitives.ReadInt32LittleEndian(ucred), BinaryPrimitives.ReadUInt32LittleEndian(ucred[4..]));
    }

    [LibraryImport("libc", EntryPoint = "getuid")]
    private static partial uint GetUid();
}

using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Tapster.Configuration;

/// <summary>
/// Reads a file that should be small (a config file, a .env file, a certificate, a secret) without
/// trusting it to be: a FIFO would block a plain open until someone writes to it, and /dev/zero or
/// /dev/urandom never end. The open does not block, a file that is not seekable (a FIFO, a socket) is
/// refused, and at most <c>maxBytes</c> are read.
/// </summary>
internal static partial class BoundedFile
{
    private const int ReadOnly = 0, NonBlocking = 0x800, CloseOnExec = 0x80000;
    private const int AccessDenied = 13, PermissionDenied = 1;

    /// <exception cref="IOException">It cannot be opened, is not a regular file, or is over <paramref name="maxBytes"/>; the message says which.</exception>
    /// <exception cref="UnauthorizedAccessException">Its permissions refuse us.</exception>
    public static byte[] ReadAllBytes(string path, int maxBytes)
    {
        if (Directory.Exists(path))
        {
            throw new IOException($"'{path}' is a directory, not a file");
        }

        var fd = Open(path, ReadOnly | NonBlocking | CloseOnExec);
        if (fd < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            var message = $"'{path}': {Marshal.GetPInvokeErrorMessage(errno)}";
            throw errno is AccessDenied or PermissionDenied ? new UnauthorizedAccessException(message) : new IOException(message);
        }

        using var handle = new SafeFileHandle(fd, ownsHandle: true);
        var buffer = new byte[Math.Min(maxBytes + 1L, 64 * 1024)];
        var total = 0;
        try
        {
            while (true)
            {
                if (total == buffer.Length)
                {
                    if (total > maxBytes)
                    {
                        throw new IOException($"'{path}' is larger than {ByteSize.Format(maxBytes)}");
                    }

                    Array.Resize(ref buffer, (int)Math.Min(maxBytes + 1L, buffer.Length * 2L));
                }

                var read = RandomAccess.Read(handle, buffer.AsSpan(total), total);
                if (read == 0)
                {
                    return buffer[..total];
                }

                total += read;
            }
        }
        catch (NotSupportedException)
        {
            // RandomAccess reads only what can seek: a FIFO or a socket lands here.
            throw new IOException($"'{path}' is not a regular file (a pipe or a socket?)");
        }
    }

    /// <summary>The file as text, as <see cref="File.ReadAllText(string)"/> reads it (UTF-8 unless a byte order mark says otherwise).</summary>
    public static string ReadAllText(string path, int maxBytes)
    {
        using var reader = new StreamReader(new MemoryStream(ReadAllBytes(path, maxBytes)), System.Text.Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
        return reader.ReadToEnd();
    }

    [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Open(string path, int flags);
}

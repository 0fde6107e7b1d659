using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Tapster.Workers;

/// <summary>POSIX signals to worker processes (which are the zygote's children, not ours).</summary>
internal static partial class Signals
{
    public const int SigHup = 1;
    public const int SigKill = 9;
    public const int SigUsr1 = 10;
    public const int SigUsr2 = 12;
    public const int SigTerm = 15;

    /// <summary>Sends <paramref name="signal"/>; false when the process is already gone.</summary>
    public static bool Send(int pid, int signal) => pid > 0 && Kill(pid, signal) == 0;

    /// <summary>
    /// A pidfd (Linux 5.3) for <paramref name="pid"/>, which names that process and no other: once it
    /// has exited and been reaped (by the zygote, or by init when the zygote is gone), signals through
    /// it fail instead of reaching whoever was given the number next. Null where the kernel or the C
    /// library has none.
    /// </summary>
    public static SafeFileHandle? Open(int pid)
    {
        try
        {
            var fd = PidfdOpen(pid, 0);
            return fd < 0 ? null : new SafeFileHandle(fd, ownsHandle: true);
        }
        catch (EntryPointNotFoundException)
        {
            return null;
        }
    }

    /// <summary>Sends <paramref name="signal"/> through <paramref name="process"/> when there is one, else by number.</summary>
    public static bool Send(SafeFileHandle? process, int pid, int signal)
    {
        if (process is null)
        {
            return Send(pid, signal);
        }

        return !process.IsClosed && PidfdSendSignal(process, signal, 0, 0) == 0;
    }

    /// <summary>
    /// Takes back <paramref name="signal"/> when Tapster was started with it ignored (nohup ignores
    /// SIGHUP, a non-interactive shell SIGINT for a background job): .NET installs no handler for an
    /// ignored signal, so it would do nothing at all. Call before any handler for it is registered.
    /// True when it was ignored.
    /// </summary>
    public static bool Unignore(int signal)
    {
        const nint Ignored = 1, Default = 0; // SIG_IGN, SIG_DFL
        var previous = SetDisposition(signal, Default);
        if (previous is not Ignored and not Default)
        {
            SetDisposition(signal, previous); // someone's handler: it stays
        }

        return previous == Ignored;
    }

    [LibraryImport("libc", EntryPoint = "signal")]
    private static partial nint SetDisposition(int signal, nint handler);

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);

    [LibraryImport("libc", EntryPoint = "pidfd_open", SetLastError = true)]
    private static partial int PidfdOpen(int pid, uint flags);

    [LibraryImport("libc", EntryPoint = "pidfd_send_signal", SetLastError = true)]
    private static partial int PidfdSendSignal(SafeFileHandle pidfd, int signal, nint info, uint flags);
}

using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace Tapster;

/// <summary>
/// sd_notify(3), for a systemd service of <c>Type=notify</c>: READY=1 once Tapster listens and its
/// workers serve, so that <c>systemctl start</c> returns, and units ordered after it start, only then
/// (with <c>Type=exec</c> that is the moment the binary starts, seconds before the app has loaded);
/// STOPPING=1 when a graceful stop begins; RELOADING=1 and READY=1 around a reload (SIGHUP), which is
/// <c>Type=notify-reload</c>'s protocol; STATUS= a line for <c>systemctl status</c>; and with
/// <c>WatchdogSec=</c>, WATCHDOG=1 at half the interval. Without NOTIFY_SOCKET there is nothing to do.
/// </summary>
internal sealed class SystemdNotify : IDisposable
{
    /// <summary>
    /// What systemd tells Tapster alone (notification, watchdog, socket activation): the app does not get
    /// them, so it can neither speak for the service nor take its sockets for its own.
    /// </summary>
    public static readonly string[] Variables = ["NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES"];

    /// <summary>READY=1 was sent and no STOPPING=1 since: only then is a reload news to systemd.</summary>
    private volatile bool _serving;

    private readonly Socket _socket;
    private readonly UnixDomainSocketEndPoint _target;
    private readonly TimeSpan? _watchdogInterval;
    private Timer? _watchdog;

    private SystemdNotify(Socket socket, UnixDomainSocketEndPoint target, TimeSpan? watchdogInterval)
    {
        _socket = socket;
        _target = target;
        _watchdogInterval = watchdogInterval;
    }

    /// <summary>The notifier systemd asked for in <paramref name="environment"/>; null when it asked for none.</summary>
    public static SystemdNotify? From(IReadOnlyDictionary<string, string> environment)
    {
        if (!environment.TryGetValue("NOTIFY_SOCKET", out var path) || path.Length == 0 || (path[0] != '/' && path[0] != '@'))
        {
            return null;
        }

        // "@name" is a socket in the abstract namespace, which the endpoint writes with a leading NUL.
        var target = new UnixDomainSocketEndPoint(path[0] == '@' ? "\0" + path[1..] : path);
        return new SystemdNotify(new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified), target, WatchdogInterval(environment));
    }

    /// <summary>Half of WATCHDOG_USEC, as sd_watchdog_enabled(3) advises, when the watchdog is meant for this process.</summary>
    internal static TimeSpan? WatchdogInterval(IReadOnlyDictionary<string, string> environment)
    {
        if (!environment.TryGetValue("WATCHDOG_USEC", out var text)
            || !long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var microseconds) || microseconds <= 0)
        {
            return null;
        }

        if (environment.TryGetValue("WATCHDOG_PID", out var pid) && pid != Environment.ProcessId.ToString(CultureInfo.InvariantCulture))
        {
            return null;
        }

        return TimeSpan.FromMicroseconds(microseconds / 2);
    }

    /// <summary>Tapster serves: READY=1, and the watchdog's pings from now on.</summary>
    public void Ready(string status)
    {
        _serving = true;
        Send($"READY=1\nSTATUS={status}\nMAINPID={Environment.ProcessId.ToString(CultureInfo.InvariantCulture)}");
        if (_watchdogInterval is { } interval)
        {
            _watchdog = new Timer(_ => Send("WATCHDOG=1"), null, TimeSpan.Zero, interval);
        }
    }

    public void Stopping()
    {
        _serving = false;
        Send("STOPPING=1\nSTATUS=Stopping: finishing the requests in flight");
    }

    /// <summary>
    /// A reload begins (SIGHUP): RELOADING=1 with the time, as <c>Type=notify-reload</c> (systemd 253)
    /// requires; <see cref="Reloaded"/> says when it ends, and systemd holds <c>systemctl reload</c> until then.
    /// </summary>
    public void Reloading()
    {
        if (!_serving)
        {
            return; // a SIGHUP while the app loads or Tapster stops changes nothing
        }

        // .NET's timestamps on Linux are CLOCK_MONOTONIC, the clock systemd means.
        var monotonicMicroseconds = Stopwatch.GetElapsedTime(0, Stopwatch.GetTimestamp()).Ticks / TimeSpan.TicksPerMicrosecond;
        Send($"RELOADING=1\nSTATUS=Reloading: loading the app's new code and configuration\nMONOTONIC_USEC={monotonicMicroseconds.ToString(CultureInfo.InvariantCulture)}");
    }

    /// <summary>A reload ended, done or not: Tapster serves either way (READY=1), as the status says.</summary>
    public void Reloaded(string status)
    {
        if (_serving)
        {
            Send($"READY=1\nSTATUS={status}");
        }
    }

    public void Dispose()
    {
        _watchdog?.Dispose();
        _socket.Dispose();
    }

    private void Send(string message)
    {
        try
        {
            _socket.SendTo(Encoding.UTF8.GetBytes(message), _target);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // systemd is gone or restarting: the service runs on, as with sd_notify's ignored errors.
        }
    }
}

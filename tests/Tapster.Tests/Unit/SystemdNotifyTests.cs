using System.Globalization;

namespace Tapster.Tests.Unit;

public sealed class SystemdNotifyTests
{
    [Fact]
    public void The_watchdog_pings_at_half_the_interval_systemd_gives()
    {
        Assert.Equal(TimeSpan.FromSeconds(1), SystemdNotify.WatchdogInterval(new Dictionary<string, string> { ["WATCHDOG_USEC"] = "2000000" }));
        Assert.Equal(TimeSpan.FromSeconds(1), SystemdNotify.WatchdogInterval(new Dictionary<string, string>
        {
            ["WATCHDOG_USEC"] = "2000000",
            ["WATCHDOG_PID"] = Environment.ProcessId.ToString(CultureInfo.InvariantCulture),
        }));
    }

    [Theory]
    [InlineData(null, null)]
    [InlineData("0", null)]
    [InlineData("soon", null)]
    [InlineData("2000000", "1")] // meant for another process (pid 1)
    public void No_watchdog_is_kept_unless_systemd_asked_this_process_for_one(string? usec, string? pid)
    {
        var environment = new Dictionary<string, string>();
        if (usec is not null)
        {
            environment["WATCHDOG_USEC"] = usec;
        }

        if (pid is not null)
        {
            environment["WATCHDOG_PID"] = pid;
        }

        Assert.Null(SystemdNotify.WatchdogInterval(environment));
    }

    [Theory]
    [InlineData("")]
    [InlineData("relative/notify")]
    public void Without_a_usable_NOTIFY_SOCKET_there_is_nothing_to_notify(string path)
    {
        Assert.Null(SystemdNotify.From(new Dictionary<string, string> { ["NOTIFY_SOCKET"] = path }));
        Assert.Null(SystemdNotify.From(new Dictionary<string, string>()));
    }
}

using System.Net.Sockets;
using System.Text;

namespace Tapster.Tests.Functional;

[Collection(FunctionalGroup.Name)]
public sealed class SystemdNotifyTests : IDisposable
{
    readonly string directory = Directory.CreateTempSubdirectory("tapster-notify-").FullName;
    readonly Socket systemd = new(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);

    public SystemdNotifyTests() => systemd.Bind(new UnixDomainSocketEndPoint(Path.Combine(directory, "notify")));

    public void Dispose()
    {
        systemd.Dispose();
        Directory.Delete(directory, recursive: true);
    }

    /// <summary>The next message systemd would get, within the timeout.</summary>
    async Task<string> NextMessageAsync()
    {
        var buffer = new byte[4096];
        using var cts = new CancellationTokenSource(Http.Short);
        var length = await systemd.ReceiveAsync(buffer, SocketFlags.None, cts.Token);
        return Encoding.UTF8.GetString(buffer, 0, length);
    }

    [Fact]
    public async Task Under_Type_notify_systemd_hears_ready_once_the_app_serves_then_the_watchdog_then_stopping()
    {
        var env = new Dictionary<string, string>
        {
            ["NOTIFY_SOCKET"] = Path.Combine(directory, "notify"),
            ["WATCHDOG_USEC"] = "400000",
        };
        await using var server = await TapsterServer.StartAsync("envprobe:app", env, "--workers", "1");

        var ready = await NextMessageAsync();
        Assert.StartsWith("READY=1\n", ready, StringComparison.Ordinal);
        Assert.Contains($"STATUS=Listening on 127.0.0.1:{server.Port} with 1 workers", ready, StringComparison.Ordinal);
        Assert.Contains($"MAINPID={server.Pid}", ready, StringComparison.Ordinal);
        Assert.Equal("WATCHDOG=1", await NextMessageAsync());
        Assert.Equal("WATCHDOG=1", await NextMessageAsync());

        // Meant for Tapster: the app cannot speak for the service.
        var seen = await server.Client.GetTextAsync("/?k=NOTIFY_SOCKET&k=WATCHDOG_USEC");
        Assert.Equal("""{"NOTIFY_SOCKET": null, "WATCHDOG_USEC": null}""", seen);

        server.SendSigterm();
        string message;
        do
        {
            message = await NextMessageAsync();
        }
        while (message == "WATCHDOG=1");
        Assert.StartsWith("STOPPING=1\n", message, StringComparison.Ordinal);
        Assert.Equal(0, await server.WaitForExitAsync(Http.Long));
    }

    [Fact]
    public async Task A_reload_is_told_to_systemd_as_reloading_then_ready_once_the_new_workers_serve_or_the_new_code_failed()
    {
        using var deploy = new VersionedApp();
        static string App(string body) => $"def app(environ, start_response):\n    start_response('200 OK', [])\n    return [b'{body}']\n";
        await deploy.WriteAsync(App("first"));
        var env = new Dictionary<string, string> { ["NOTIFY_SOCKET"] = Path.Combine(directory, "notify") };
        await using var server = await TapsterServer.StartAsync("versioned:app", env, "--chdir", deploy.Directory, "--workers", "2", "--threads", "1");
        Assert.StartsWith("READY=1\n", await NextMessageAsync(), StringComparison.Ordinal);

        await deploy.WriteAsync(App("second"));
        server.SendSignal("HUP");
        var reloading = await NextMessageAsync();
        var sent = System.Text.RegularExpressions.Regex.Match(reloading, @"^RELOADING=1\nSTATUS=Reloading: [^\n]+\nMONOTONIC_USEC=([0-9]+)$");
        Assert.True(sent.Success, reloading);
        // The same clock as systemd's (CLOCK_MONOTONIC): moments ago.
        var now = System.Diagnostics.Stopwatch.GetElapsedTime(0, System.Diagnostics.Stopwatch.GetTimestamp());
        Assert.InRange(now - TimeSpan.FromMicroseconds(long.Parse(sent.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)), TimeSpan.Zero, Http.Short);
        Assert.Equal("READY=1\nSTATUS=Reloaded: 2 workers serve the new code and environment", await NextMessageAsync());
        Assert.Equal("second", await server.Client.GetTextAsync("/"));
        await server.WaitForEventAsync(e => e.Str("event") == "reload.done", Http.Short);

        // Code that cannot load: the reload ends too, the old workers serving.
        await deploy.WriteAsync("raise RuntimeError('broken-deploy-10')\n");
        server.SendSignal("HUP");
        Assert.StartsWith("RELOADING=1\n", await NextMessageAsync(), StringComparison.Ordinal);
        Assert.Equal("READY=1\nSTATUS=Reload failed: the new code did not load; the previous workers serve on", await NextMessageAsync());
        Assert.Equal("second", await server.Client.GetTextAsync("/"));
    }
}

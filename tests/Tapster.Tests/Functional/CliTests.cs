using System.Net;

namespace Tapster.Tests.Functional;

[Collection(FunctionalGroup.Name)]
public class CliTests
{
    [Fact]
    public async Task A_malformed_app_spec_is_refused_with_exit_2_and_a_one_line_error()
    {
        var (code, _, stderr, _) = await TapsterServer.StartExpectingExitAsync("probe:", ["--workers", "1"]);
        Assert.Equal(2, code);
        Assert.StartsWith("tapster: error:", stderr.Trim(), StringComparison.Ordinal);
        Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public async Task A_non_numeric_worker_count_is_refused_with_exit_2_not_a_crash()
    {
        var (code, _, stderr, _) = await TapsterServer.StartExpectingExitAsync("probe:app", ["--workers", "zero"]);
        Assert.DoesNotContain("Unhandled exception", stderr, StringComparison.Ordinal);
        Assert.True(code == 2, $"exit {code}:\n{stderr}");
        Assert.Contains("--workers", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_value_with_a_newline_is_quoted_escaped_so_the_error_stays_one_line()
    {
        var (code, _, stderr, _) = await TapsterServer.StartExpectingExitAsync("probe:app", ["--workers", "1\n\u001b[2J2"]);
        Assert.True(code == 2, $"exit {code}:\n{stderr}");
        Assert.Equal("tapster: error: --workers '1\\x0a\\x1b[2J2' is not a whole number", Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries)));
    }

    [Fact]
    public async Task A_worker_count_below_one_is_refused_with_exit_2()
    {
        var (code, _, stderr, _) = await TapsterServer.StartExpectingExitAsync("probe:app", ["--workers", "0"]);
        Assert.True(code == 2, $"exit {code}:\n{stderr}");
        Assert.Contains("--workers must be at least 1", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_bad_duration_is_refused_with_exit_2()
    {
        var (code, _, stderr, _) = await TapsterServer.StartExpectingExitAsync("probe:app", ["--timeout", "banana"]);
        Assert.True(code == 2, $"exit {code}:\n{stderr}");
        Assert.Contains("--timeout 'banana' is not a duration", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_port_another_process_holds_is_refused_in_one_line_before_the_app_loads()
    {
        using var squatter = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        squatter.Start();
        var taken = ((IPEndPoint)squatter.LocalEndpoint).Port;
        var (code, stdout, stderr, _) = await TapsterServer.StartExpectingExitAsync("probe:app", ["--workers", "1", "--bind", $"127.0.0.1:{taken}"]);
        Assert.True(code == 2, $"exit {code}:\n{stderr}");
        Assert.Equal($"tapster: error: cannot listen on 127.0.0.1:{taken}: the address is already in use (another server on this port, or the same --bind given twice)", stderr.Trim());
        Assert.DoesNotContain("zygote", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_same_bind_given_twice_is_refused_with_exit_2()
    {
        var port = TapsterServer.FreePort();
        var (code, _, stderr, _) = await TapsterServer.StartExpectingExitAsync("probe:app", ["--workers", "1", "--bind", $"127.0.0.1:{port}", "--bind", $"127.0.0.1:{port}"]);
        Assert.True(code == 2, $"exit {code}:\n{stderr}");
        Assert.StartsWith($"tapster: error: cannot listen on 127.0.0.1:{port}: the address is already in use", stderr.Trim(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Chdir_loads_the_app_from_that_directory()
    {
        await using var server = await TapsterServer.StartAsync("wsgi:application", "--workers", "1", "--threads", "1", "--chdir", "dirapp");
        Assert.Equal("dirapp wsgi.py application", await server.Client.GetTextAsync("/"));
    }

    [Fact]
    public async Task Two_workers_share_a_burst_of_concurrent_requests_without_failures()
    {
        await using var server = await TapsterServer.StartAsync("probe:app", "--workers", "2", "--threads", "2");
        var tasks = Enumerable.Range(0, 40).Select(async _ =>
        {
            using var r = await server.Client.GetAsync("/threads?s=0.05");
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
            return System.Text.Json.JsonDocument.Parse(await r.Content.ReadAsStringAsync()).RootElement.GetProperty("pid").GetInt32();
        });
        var pids = await Task.WhenAll(tasks);
        Assert.Equal(2, pids.Distinct().Count());
    }
}

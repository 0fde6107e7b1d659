using System.Net;

namespace Tapster.Tests.Functional;

[Collection(FunctionalGroup.Name)]
public class AppLoadingTests
{
    static readonly string[] OneWorker = ["--workers", "1", "--threads", "2"];

    static async Task AssertServesAsync(string app, string expectedBody)
    {
        await using var server = await TapsterServer.StartAsync(app, OneWorker);
        var body = await server.Client.GetTextAsync("/");
        Assert.Equal(expectedBody, body);
    }

    [Fact]
    public Task A_module_colon_app_spec_is_served() => AssertServesAsync("probe:app", "ok");

    [Fact]
    public Task A_factory_call_spec_is_called_and_its_app_served() =>
        AssertServesAsync("factory_app:create_app()", "hello from factory");

    [Fact]
    public Task A_factory_called_with_literal_arguments_as_in_Gunicorn_is_served() =>
        AssertServesAsync("factory_app:create_app(name='prod')", "hello from prod");

    [Fact]
    public async Task A_factory_argument_that_is_code_not_a_literal_exits_2_with_one_line()
    {
        var line = await UsageErrorLineAsync("factory_app:create_app(__import__('os').getcwd())");
        Assert.Contains("must be a name, or a call of one with literal arguments", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_directory_with_wsgi_py_serves_wsgi_py_not_app_py()
    {
        await using var server = await TapsterServer.StartAsync("dirapp", OneWorker);
        var body = await server.Client.GetTextAsync("/");
        Assert.DoesNotContain("WRONG", body, StringComparison.Ordinal);
        Assert.Equal("dirapp wsgi.py application", body);
    }

    [Fact]
    public Task A_directory_with_only_app_py_uses_its_create_app_factory() =>
        AssertServesAsync("dirapp_appfile", "dirapp_appfile create_app");

    [Fact]
    public Task A_py_file_path_is_served_with_the_chosen_python() =>
        AssertServesAsync("plain_wsgi.py", TapsterServer.Python);

    [Fact]
    public async Task An_app_that_raises_at_import_exits_3_with_its_traceback_and_is_not_respawned()
    {
        var (code, _, stderr, elapsed) = await TapsterServer.StartExpectingExitAsync("broken_import:app", OneWorker);
        Assert.Equal(3, code);
        Assert.Contains("Traceback", stderr, StringComparison.Ordinal);
        Assert.Contains("boom-testasset-import", stderr, StringComparison.Ordinal);
        Assert.Contains("tapster: error:", stderr, StringComparison.Ordinal);
        Assert.True(elapsed < TimeSpan.FromSeconds(30), $"took {elapsed} to give up");
    }

    [Fact]
    public async Task A_non_callable_app_exits_2_with_a_one_line_error()
    {
        var (code, _, stderr, _) = await TapsterServer.StartExpectingExitAsync("not_callable:app", OneWorker);
        Assert.Equal(2, code);
        var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        Assert.StartsWith("tapster: error:", lines[0], StringComparison.Ordinal);
        Assert.Contains("not callable", lines[0], StringComparison.Ordinal);
        Assert.DoesNotContain("Traceback", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_module_that_does_not_exist_exits_2_with_one_line_naming_it_and_the_directory()
    {
        var line = await UsageErrorLineAsync("nosuchmodule:app");
        Assert.StartsWith("tapster: error:", line, StringComparison.Ordinal);
        Assert.Contains($"there is no module 'nosuchmodule' in {TapsterServer.TestAssets}", line, StringComparison.Ordinal);
        Assert.DoesNotContain("TAPSTER_", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_python_that_does_not_exist_exits_2()
    {
        var (code, _, stderr, _) = await TapsterServer.StartExpectingExitAsync(
            "probe:app", ["--workers", "1", "--python", "/nonexistent"], addPython: false);
        Assert.Equal(2, code);
        Assert.Contains("tapster: error:", stderr, StringComparison.Ordinal);
        Assert.Contains("/nonexistent", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_program_that_is_not_python_exits_2_with_one_line_naming_it()
    {
        var (code, _, stderr, _) = await TapsterServer.StartExpectingExitAsync(
            "probe:app", ["--workers", "1", "--python", "/bin/true"], addPython: false);
        Assert.Equal(2, code);
        var last = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries).Last();
        Assert.Equal("tapster: error: '/bin/true' is not a working Python: it stopped before starting Tapster's bridge (exit code 0)", last);
    }

    [Fact]
    public async Task An_app_that_ends_the_process_while_importing_exits_3()
    {
        var (code, _, stderr, _) = await TapsterServer.StartExpectingExitAsync("exit_on_import:app", OneWorker);
        Assert.Equal(3, code);
        var last = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries).Last();
        Assert.StartsWith("tapster: error: Python ", last, StringComparison.Ordinal);
        Assert.Contains("stopped while loading the app (its connection closed, exit code 7)", last, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("TERM", 143)]
    [InlineData("INT", 130)]
    public async Task A_stop_signal_while_the_app_loads_exits_128_plus_its_number(string signal, int exitCode)
    {
        await using var server = await TapsterServer.LaunchUnreadyAsync("hang_import:app", "--workers", "1");
        await server.WaitForEventAsync(e => e.Str("event") == "zygote.starting", Http.Short);

        server.SendSignal(signal);

        Assert.Equal(exitCode, await server.WaitForExitAsync(Http.Short));
        Assert.Contains("interrupted while the app was loading", server.AllOutput, StringComparison.Ordinal);
        Assert.DoesNotContain("Traceback", server.AllOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_missing_dependency_fails_naming_the_module_and_the_python_used()
    {
        var (code, _, stderr, _) = await TapsterServer.StartExpectingExitAsync("missing_dep:app", OneWorker);
        Assert.NotEqual(0, code);
        var last = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries).Last();
        Assert.StartsWith("tapster: error:", last, StringComparison.Ordinal);
        Assert.Contains("notarealmodule_tapster", last, StringComparison.Ordinal);
        Assert.Contains(TapsterServer.Python, last, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_missing_dependency_error_names_the_python_only_once()
    {
        var (_, _, stderr, _) = await TapsterServer.StartExpectingExitAsync("missing_dep:app", OneWorker);
        var last = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries).Last();
        var count = last.Split("(python: ").Length - 1;
        Assert.True(count == 1, $"'(python: ...)' appears {count} times in: {last}");
    }

    [Fact]
    public async Task Without_preload_every_worker_imports_the_app_and_serves()
    {
        await using var server = await TapsterServer.StartAsync("probe:app", "--workers", "2", "--threads", "1", "--no-preload");
        Assert.Equal("ok", await server.Client.GetTextAsync("/"));
        // Both workers report ready; with --no-preload each one imported the app itself.
        await server.WaitForEventAsync(_ => server.Events("worker.ready").Count >= 2, Http.Short);
        var readyPids = server.Events("worker.ready").Select(e => e.GetProperty("pid").GetInt32()).Distinct().ToList();
        Assert.True(readyPids.Count >= 2, $"worker pids: {string.Join(",", readyPids)}");
        // Two concurrent requests on 1-thread workers must land on both workers.
        var t1 = server.Client.GetJsonAsync("/threads?s=0.5");
        var t2 = server.Client.GetJsonAsync("/threads?s=0.5");
        var pids = (await Task.WhenAll(t1, t2)).Select(j => j.GetProperty("pid").GetInt32()).ToHashSet();
        Assert.Equal(2, pids.Count);
        var zygote = Assert.Single(server.Events("zygote.ready"));
        Assert.False(zygote.GetProperty("preload").GetBoolean(), "the app was preloaded: " + zygote.GetRawText());
        using var r = await server.Client.GetAsync("/health");
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
    }
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task An_app_whose_import_hangs_exits_3_after_the_boot_timeout_showing_where_it_hangs(bool preload)
    {
        string[] flags = ["--workers", "1", "--boot-timeout", "1s", .. preload ? Array.Empty<string>() : ["--no-preload"]];
        var (code, _, stderr, elapsed) = await TapsterServer.StartExpectingExitAsync("hang_import:app", flags);

        Assert.Equal(3, code);
        Assert.Contains("did not finish loading", stderr, StringComparison.Ordinal);
        Assert.Contains("within 1s (workers.boot_timeout)", stderr, StringComparison.Ordinal);
        // faulthandler's dump names the app's own line, not just Tapster's loader.
        Assert.Matches(@"hang_import\.py"", line \d+ in <module>", stderr);
        Assert.True(elapsed < TimeSpan.FromSeconds(20), $"took {elapsed} to give up");
    }

    [Fact]
    public async Task A_worker_whose_import_hangs_after_startup_is_replaced_while_the_others_serve()
    {
        var marker = Path.Combine(Path.GetTempPath(), $"tapster-hang-{Guid.NewGuid():N}");
        try
        {
            var env = new Dictionary<string, string> { ["HANG_IMPORT_AFTER_FIRST"] = marker };
            await using var server = await TapsterServer.StartAsync("hang_import:app", env, "--workers", "2", "--threads", "1", "--no-preload", "--boot-timeout", "1s");

            var overdue = await server.WaitForEventAsync(e => e.GetProperty("event").GetString() == "worker.boot_timeout", Http.Short);
            await server.WaitForLogAsync(line => line.Contains("hang_import.py", StringComparison.Ordinal), Http.Short);
            var crashed = await server.WaitForEventAsync(e => e.GetProperty("event").GetString() == "worker.crashed", Http.Short);
            Assert.Equal(overdue.GetProperty("worker_id").ToString(), crashed.GetProperty("worker_id").ToString());
            Assert.Contains("did not load the app", crashed.GetProperty("reason").GetString(), StringComparison.Ordinal);
            Assert.Equal("imported", await server.Client.GetTextAsync("/"));
        }
        finally
        {
            File.Delete(marker);
        }
    }

    /// <summary>Starts <paramref name="app"/>, which must exit 2 with exactly one line on stderr; that line.</summary>
    static async Task<string> UsageErrorLineAsync(string app)
    {
        var (code, _, stderr, _) = await TapsterServer.StartExpectingExitAsync(app, OneWorker);
        Assert.Equal(2, code);
        return Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }
}

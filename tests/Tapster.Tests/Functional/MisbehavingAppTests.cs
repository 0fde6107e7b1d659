using System.Globalization;
using System.Net;

namespace Tapster.Tests.Functional;

/// <summary>
/// An app that does what apps should not (testassets/misbehaving.py), on one worker with one thread so
/// that each mistake and the request after it share a slot: the mistake gets its own answer, and the
/// next request, its own response from the same, living worker.
/// </summary>
[Collection(FunctionalGroup.Name)]
public class MisbehavingAppTests(MisbehavingAppTests.MisbehavingServer shared) : IClassFixture<MisbehavingAppTests.MisbehavingServer>
{
    public sealed class MisbehavingServer() : ServerFixture("misbehaving:app", null, "--workers", "1", "--threads", "1");

    TapsterServer Server => shared.Server;

    async Task<int> PidAsync() => int.Parse(await Server.Client.GetTextAsync("/pid"), CultureInfo.InvariantCulture);

    async Task AssertSameWorkerServesAsync(int pid)
    {
        Assert.Equal(pid, await PidAsync());
        Assert.Empty(Server.Events("worker.crashed"));
    }

    [Fact]
    public async Task A_child_the_app_forks_never_answers_in_the_workers_place()
    {
        var pid = await PidAsync();
        Assert.Equal("parent", await Server.Client.GetTextAsync("/fork-return"));
        for (var i = 0; i < 5; i++)
            Assert.Equal($"response for {i}", await Server.Client.GetTextAsync($"/echo?{i}"));
        await AssertSameWorkerServesAsync(pid);
    }

    [Fact]
    public async Task A_write_callable_kept_past_its_response_is_refused_instead_of_writing_into_the_next()
    {
        Assert.Equal("kept\n", await Server.Client.GetTextAsync("/keep-writer"));
        var next = await Server.Client.GetTextAsync("/use-kept-writer");
        Assert.Equal("RuntimeError", next);
    }

    [Fact]
    public async Task A_control_character_in_a_header_value_is_a_500_and_the_worker_serves_on()
    {
        var pid = await PidAsync();
        using var r = await Server.Client.GetAsync("/ctl-header");
        Assert.Equal(HttpStatusCode.InternalServerError, r.StatusCode);
        Assert.True(r.Headers.Contains("X-Request-ID"), "the 500 came from Kestrel, not from Tapster's own error path");
        await AssertSameWorkerServesAsync(pid);
    }

    [Fact]
    public async Task The_response_ends_only_after_the_apps_close_returned()
    {
        // Until close() returns the slot is not free: the timeout and the next request must not be
        // charged for the app's teardown.
        var marker = Path.Combine(Server.StateDir, "closed");
        File.Delete(marker);
        Assert.Equal("closed later\n", await Server.Client.GetTextAsync("/slow-close"));
        Assert.True(File.Exists(marker), "the response was complete before close() had run");
    }

    [Fact]
    public async Task An_app_that_closed_wsgi_errors_still_gets_a_500_and_its_traceback_logged()
    {
        var pid = await PidAsync();
        Assert.Equal("closed wsgi.errors", await Server.Client.GetTextAsync("/close-errors"));
        using var r = await Server.Client.GetAsync("/boom");
        Assert.Equal(HttpStatusCode.InternalServerError, r.StatusCode);
        await Server.WaitForLogAsync(l => l.Contains("boom after wsgi.errors was closed", StringComparison.Ordinal), Http.Short);
        await AssertSameWorkerServesAsync(pid);
    }

    [Theory]
    [InlineData("/interim")]
    [InlineData("/huge-head")]
    [InlineData("/two-lengths")]
    public async Task A_response_head_that_cannot_be_sent_is_a_500_and_the_worker_serves_on(string path)
    {
        var pid = await PidAsync();
        using var r = await Server.Client.GetAsync(path);
        Assert.Equal(HttpStatusCode.InternalServerError, r.StatusCode);
        await AssertSameWorkerServesAsync(pid);
    }

    [Fact]
    public async Task A_file_positioned_past_its_end_is_an_empty_200()
    {
        using var r = await Server.Client.GetAsync("/seek-past-end");
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.Empty(await r.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task A_default_socket_timeout_set_at_import_does_not_make_an_idle_worker_quit()
    {
        var pid = await PidAsync();
        await Task.Delay(TimeSpan.FromSeconds(1.5)); // idle for three of the app's 0.5 s timeouts: the subject of the test
        await AssertSameWorkerServesAsync(pid);
    }

    [Fact]
    public async Task An_app_with_its_own_SIGTERM_handler_still_finishes_its_requests_when_the_whole_group_is_stopped()
    {
        await using var server = await TapsterServer.StartAsync("misbehaving:app", "--workers", "1", "--threads", "1");
        var slow = server.Client.GetAsync("/sleep?1");
        await server.WaitForLogAsync(l => l.Contains("\"worker.ready\"", StringComparison.Ordinal), Http.Short);
        await Task.Delay(300); // the request is in the app by now; nothing to observe from outside

        server.SignalProcessTree("TERM");

        using var r = await slow;
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.Equal("slept", await r.Content.ReadAsStringAsync());
        Assert.Equal(0, await server.WaitForExitAsync(Http.Long));
    }
}

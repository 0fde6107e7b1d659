using System.Diagnostics;
using System.Globalization;
using System.Net;

namespace Tapster.Tests.Functional;

[Collection(FunctionalGroup.Name)]
public class MemoryLimitTests
{
    [Fact]
    public async Task A_worker_past_its_memory_limit_is_replaced_without_failing_a_request()
    {
        await using var server = await TapsterServer.StartAsync("probe:app", "--workers", "1", "--threads", "2", "--max-memory", "48");
        var leaky = int.Parse(await server.Client.GetTextAsync("/hold?mib=64"), CultureInfo.InvariantCulture);

        var over = await server.WaitForEventAsync(e => e.Str("event") == "worker.memory_limit", Http.Short);
        Assert.Equal(leaky, over.GetProperty("pid").GetInt32());
        Assert.InRange(over.GetProperty("private_mib").GetInt64(), 64, 1024);
        Assert.Equal(48, over.GetProperty("limit_mib").GetInt64());

        // It serves on until its replacement is ready, then drains: no request fails on the way.
        var replacedBy = await ServedByAnotherPidAsync(server, leaky);
        Assert.NotEqual(leaky, replacedBy);
        await server.WaitForEventAsync(e => e.Str("event") == "worker.retired" && e.GetProperty("pid").GetInt32() == leaky, Http.Short);
        Assert.Single(server.Events("worker.memory_limit"));
    }

    [Fact]
    public async Task A_memory_limit_below_what_a_fresh_worker_holds_is_reported_once_and_recycles_nothing()
    {
        // Without preload each worker imports the app itself, and its 40 MiB are its own from the start.
        await using var server = await TapsterServer.StartAsync("big_import:app", "--workers", "2", "--threads", "1", "--no-preload", "--max-memory", "24");
        var tooLow = await server.WaitForEventAsync(e => e.Str("event") == "worker.memory_limit_too_low", Http.Short);
        Assert.InRange(tooLow.GetProperty("private_mib").GetInt64(), 40, 1024);
        Assert.Contains("raise the limit", tooLow.Str("message"), StringComparison.Ordinal);

        // Over two check periods (2 s each) of requests: the same workers serve throughout.
        var pids = new HashSet<string>();
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < TimeSpan.FromSeconds(5))
        {
            using var r = await server.Client.GetAsync("/");
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
            pids.Add(await r.Content.ReadAsStringAsync());
        }

        Assert.InRange(pids.Count, 1, 2);
        Assert.Empty(server.Events("worker.memory_limit"));
        Assert.Single(server.Events("worker.memory_limit_too_low"));
    }

    /// <summary>Requests /pid until a process other than <paramref name="pid"/> answers; every answer must be 200.</summary>
    private static async Task<int> ServedByAnotherPidAsync(TapsterServer server, int pid)
    {
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < Http.Short)
        {
            using var r = await server.Client.GetAsync("/pid");
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
            var answered = int.Parse(await r.Content.ReadAsStringAsync(), CultureInfo.InvariantCulture);
            if (answered != pid)
            {
                return answered;
            }
        }

        throw new TimeoutException($"pid {pid} still answered after {Http.Short}");
    }
}

namespace Tapster.Tests.Functional;

[Collection(FunctionalGroup.Name)]
public class WorkerSocketTests
{
    [Theory]
    [InlineData("control", "WorkerControl")]
    [InlineData("stdout", "WorkerStdout")]
    public async Task A_worker_holding_the_token_cannot_take_the_place_of_a_sibling_that_is_still_starting(string role, string roleName)
    {
        await using var server = await TapsterServer.StartAsync("impostor:app", "--workers", "1", "--threads", "1");
        var sibling = (await server.WaitForEventAsync(e => e.Str("event") == "worker.ready", Http.Short)).GetProperty("worker_id").GetUInt32() + 1;
        server.SendSignal("TTIN"); // the zygote forks the sibling, which waits 3 s before it connects
        await server.WaitForEventAsync(e => e.Str("event") == "workers.resized", Http.Short);

        Assert.Equal("refused", await server.Client.GetTextAsync($"/claim?worker={sibling}&role={role}"));
        var refusal = await server.WaitForEventAsync(e => e.Str("event") == "worker.impostor", Http.Short);
        Assert.Equal(sibling, refusal.GetProperty("worker_id").GetUInt32());
        Assert.Equal(roleName, refusal.Str("role"));
        await server.WaitForEventAsync(
            e => e.Str("event") == "worker.ready" && e.GetProperty("worker_id").GetUInt32() == sibling, Http.Short);
        Assert.Empty(server.Events("worker.crashed"));
    }
}

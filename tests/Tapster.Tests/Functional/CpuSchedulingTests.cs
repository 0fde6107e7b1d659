using System.Globalization;

namespace Tapster.Tests.Functional;

[Collection(FunctionalGroup.Name)]
public class CpuSchedulingTests
{
    const int SchedBatch = 3;
    const int SchedIdle = 5;

    [Fact]
    public async Task By_default_every_thread_of_the_server_and_of_its_workers_runs_under_SCHED_BATCH()
    {
        await using var server = await TapsterServer.StartAsync("probe:app", "--workers", "1", "--threads", "2");

        await AssertEveryThreadRunsUnderAsync(server, SchedBatch);
    }

    [Fact]
    public async Task With_inherit_the_server_and_its_workers_keep_the_policy_they_were_started_with()
    {
        var ours = ThreadPolicies(Environment.ProcessId)[0];
        await using var server = await TapsterServer.StartAsync("probe:app", "--workers", "1", "--cpu-scheduling", "inherit");

        await AssertEveryThreadRunsUnderAsync(server, ours);
    }

    [Fact]
    public async Task A_policy_the_operator_chose_with_chrt_is_not_replaced()
    {
        var launcher = Path.Combine(Directory.CreateTempSubdirectory("tapster-chrt-").FullName, "idle");
        await File.WriteAllTextAsync(launcher, "#!/bin/sh\nexec chrt --idle 0 \"$@\"\n");
        File.SetUnixFileMode(launcher, UnixFileMode.UserRead | UnixFileMode.UserExecute);
        await using var server = await TapsterServer.StartUnderAsync(launcher, "probe:app", "--workers", "1");

        await AssertEveryThreadRunsUnderAsync(server, SchedIdle);
    }

    /// <summary>Every thread of the server and of a worker (the one answering /pid) runs under <paramref name="policy"/>.</summary>
    static async Task AssertEveryThreadRunsUnderAsync(TapsterServer server, int policy)
    {
        var worker = int.Parse(await server.Client.GetTextAsync("/pid"), CultureInfo.InvariantCulture);

        Assert.All(ThreadPolicies(server.Pid), p => Assert.Equal(policy, p));
        Assert.All(ThreadPolicies(worker), p => Assert.Equal(policy, p));
    }

    /// <summary>The scheduling policy of each thread of <paramref name="pid"/>: field 41 of its stat file.</summary>
    static List<int> ThreadPolicies(int pid)
    {
        var policies = new List<int>();
        foreach (var task in Directory.GetDirectories($"/proc/{pid}/task"))
        {
            string stat;
            try { stat = File.ReadAllText(Path.Combine(task, "stat")); }
            catch (IOException) { continue; } // the thread ended meanwhile
            // The command name in parentheses may hold spaces; the fields after it start at field 3.
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            policies.Add(int.Parse(fields[41 - 3], CultureInfo.InvariantCulture));
        }

        Assert.NotEmpty(policies);
        return policies;
    }
}

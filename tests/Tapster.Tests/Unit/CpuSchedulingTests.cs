using Tapster.Tests.Unit.Configuration;

namespace Tapster.Tests.Unit;

public class CpuSchedulingTests
{
    [Fact]
    public void Batch_is_the_default_policy()
    {
        using var config = new TempConfig("");

        Assert.Equal("batch", config.LoadValid().CpuScheduling);
    }

    [Theory]
    [InlineData("batch")]
    [InlineData("inherit")]
    public void Both_policies_are_accepted(string policy)
    {
        using var config = new TempConfig($"[workers]\ncpu_scheduling = \"{policy}\"\n");

        Assert.Equal(policy, config.LoadValid().CpuScheduling);
    }

    [Fact]
    public void An_unknown_policy_is_refused_naming_the_choices()
    {
        using var config = new TempConfig("[workers]\ncpu_scheduling = \"fifo\"\n");

        var error = Assert.Single(config.Load().Errors);

        Assert.StartsWith("workers.cpu_scheduling 'fifo' is not a scheduling policy Tapster sets (use \"batch\" or \"inherit\")", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Inherit_changes_nothing_and_reports_nothing()
    {
        Assert.Null(CpuScheduling.Apply(CpuScheduling.Inherit));
    }
}

using Microsoft.Extensions.Logging;
using Tapster.Telemetry;
using Tapster.Tests.Unit.Configuration;

namespace Tapster.Tests.Unit.Telemetry;

public sealed class LogSettingsTests
{
    [Fact]
    public void The_log_section_comes_from_the_file_and_from_the_environment_twins_of_its_flags()
    {
        using var config = new TempConfig("[log]\nlevel = \"warn\"\naccess_skip = [\"/health\", \"/ping\"]\n");

        var log = config.LoadValid().Log;
        Assert.Equal(LogLevel.Warning, log.MinimumLevel);
        Assert.Equal(["/health", "/ping"], log.AccessSkip);
        Assert.True(log.Access);
        var flagged = config.LoadValid(environment: new() { ["TAPSTER_LOG_LEVEL"] = "error", ["TAPSTER_NO_ACCESS_LOG"] = "1" }).Log;
        Assert.Equal(LogLevel.Error, flagged.MinimumLevel);
        Assert.False(flagged.Access);
    }

    [Theory]
    [InlineData("level = \"verbose\"", "'verbose' is not a log level")]
    [InlineData("access_skip = [\"health\"]", "'health' must start with '/'")]
    [InlineData("access_skip = [\"/health/\"]", "'/health/' must start with '/' and not end with one")]
    public void A_wrong_value_is_refused_naming_it(string line, string error)
    {
        using var config = new TempConfig($"[log]\n{line}\n");

        Assert.Contains(error, Assert.Single(config.Load().Errors).ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/health", 200, false)]
    [InlineData("/health/db", 204, false)]
    [InlineData("/health", 503, true)]
    [InlineData("/health/missing", 404, true)]
    [InlineData("/healthz", 200, true)]
    [InlineData("/", 200, true)]
    public void A_skipped_path_loses_only_its_successful_lines(string path, int status, bool logged)
    {
        var log = new AccessLog(new LogSink(Stream.Null, isTerminal: false), new LogSettings { AccessSkip = ["/health"] });

        Assert.Equal(logged, log.Wants(path, status));
    }

    [Fact]
    public void With_access_lines_off_no_request_gets_one_not_even_a_failure()
    {
        var log = new AccessLog(new LogSink(Stream.Null, isTerminal: false), new LogSettings { Access = false });

        Assert.False(log.Wants("/", 500));
    }
}

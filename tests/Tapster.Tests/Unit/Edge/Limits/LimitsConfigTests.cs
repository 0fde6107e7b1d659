using System.Net;
using Microsoft.AspNetCore.Http;
using Tapster.Edge.Limits;
using Tapster.Tests.Unit.Configuration;

namespace Tapster.Tests.Unit.Edge.Limits;

public sealed class LimitsConfigTests
{
    [Fact]
    public void The_defaults_are_the_documented_ones()
    {
        using var config = new TempConfig();

        var limits = config.LoadValid().Limits;

        Assert.Equal(8 * 1024, limits.MaxRequestLine);
        Assert.Equal(32 * 1024, limits.MaxHeaderSize);
        Assert.Equal(100, limits.MaxHeaders);
        Assert.Equal(TimeSpan.FromSeconds(10), limits.HeaderTimeout);
        Assert.Equal(TimeSpan.FromSeconds(75), limits.KeepAliveTimeout);
        Assert.Equal(240, limits.MinDataRate);
        Assert.Equal(10_000, limits.MaxConnections);
        Assert.Equal((256 * 1024, 1L << 30), (limits.ResponseBufferSize, limits.ResponseSpoolMax));
        Assert.Empty(limits.RateLimits);
    }

    [Fact]
    public void The_response_spool_sizes_come_from_the_file()
    {
        using var config = new TempConfig("[limits]\nresponse_buffer_size = \"1MiB\"\nresponse_spool_max = 0\n");

        var limits = config.LoadValid().Limits;

        Assert.Equal((1024 * 1024, 0L), (limits.ResponseBufferSize, limits.ResponseSpoolMax));
    }

    [Fact]
    public void Two_rules_for_one_prefix_are_refused_from_the_environment_as_from_the_file()
    {
        using var config = new TempConfig();

        var error = Assert.Single(config.Load(new() { ["TAPSTER_RATE_LIMIT"] = "/a=10/m,/a=5/m" }).Errors);

        Assert.Contains("prefix '/a' has two rules", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Rate_limits_are_read_from_the_file_with_burst_and_key()
    {
        using var config = new TempConfig("""
            [limits]
            header_timeout = "3s"
            rate = [
              { prefix = "/login", rate = "10/m", burst = 5 },
              { prefix = "/api", rate = "100/s", by = "header:X-API-Key" },
            ]
            """);

        var limits = config.LoadValid().Limits;

        Assert.Equal(TimeSpan.FromSeconds(3), limits.HeaderTimeout);
        Assert.Equal(
            [new RateLimitRule("/login", 10, TimeSpan.FromMinutes(1), 5, null), new RateLimitRule("/api", 100, TimeSpan.FromSeconds(1), 100, "X-API-Key")],
            limits.RateLimits);
    }

    [Fact]
    public void Rate_limits_may_be_written_as_an_array_of_tables()
    {
        using var config = new TempConfig("""
            [[limits.rate]]
            prefix = "/login"
            rate = "10/m"
            burst = 5

            [[limits.rate]]
            prefix = "/api"
            rate = "100/s"
            by = "header:X-API-Key"

            [limits]
            header_timeout = "3s"
            """);

        var limits = config.LoadValid().Limits;

        Assert.Equal(TimeSpan.FromSeconds(3), limits.HeaderTimeout);
        Assert.Equal(
            [new RateLimitRule("/login", 10, TimeSpan.FromMinutes(1), 5, null), new RateLimitRule("/api", 100, TimeSpan.FromSeconds(1), 100, "X-API-Key")],
            limits.RateLimits);
    }

    [Theory]
    [InlineData("[[limits.rate]]\nprefix = \"/a\"\nrate = \"10/day\"\n", "tapster.toml:1:3: limits.rate rate '10/day' must be N/s, N/m or N/h")]
    [InlineData("[[limits.rate]]\nprefix = \"/a\"\nrate = \"1/s\"\n[[limits.rate]]\nprefix = \"/a\"\nrate = \"2/s\"\n", "tapster.toml:1:3: limits.rate prefix '/a' has two rules; keep one")]
    [InlineData("[[workers.count]]\nn = 1\n", "tapster.toml:1:3: workers.count must be a whole number")]
    [InlineData("[[limits.rates]]\nprefix = \"/a\"\n", "tapster.toml:1:3: unknown table [[limits.rates]]")]
    public void A_wrong_array_of_tables_is_reported_at_its_first_header(string toml, string error)
    {
        using var config = new TempConfig(toml);

        Assert.StartsWith(error, Assert.Single(config.Load().Errors).ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void The_rate_limit_flag_takes_prefix_equals_rate()
    {
        using var config = new TempConfig();

        var limits = config.LoadValid(flags: new() { ["limits.rate"] = "/login=5/minute, /=1000/h" }).Limits;

        Assert.Equal([new RateLimitRule("/login", 5, TimeSpan.FromMinutes(1), 5, null), new RateLimitRule("/", 1000, TimeSpan.FromHours(1), 1000, null)], limits.RateLimits);
    }

    [Theory]
    [InlineData("rate = [{ prefix = \"/a\", rate = \"10/day\" }]", "rate '10/day' must be N/s, N/m or N/h")]
    [InlineData("rate = [{ prefix = \"/a\", rate = \"0/s\" }]", "rate '0/s' must be N/s")]
    [InlineData("rate = [{ prefix = \"api\", rate = \"1/s\" }]", "prefix 'api' must be a URL path starting with '/'")]
    [InlineData("rate = [{ prefix = \"/a\", rate = \"1/s\", burst = 0 }]", "burst 0 must be at least 1")]
    [InlineData("rate = [{ prefix = \"/a\", rate = \"1/s\", by = \"cookie\" }]", "by 'cookie' must be \"ip\" or \"header:NAME\"")]
    [InlineData("rate = [{ prefix = \"/a\" }]", "entries need prefix and rate")]
    [InlineData("rate = [{ prefix = \"/a\", rate = \"1/s\" }, { prefix = \"/a\", rate = \"2/s\" }]", "prefix '/a' has two rules")]
    [InlineData("max_header_size = 100", "must be between 1KiB and 1MiB")]
    [InlineData("data_rate_grace = \"1s\"", "must be longer than 1s")]
    [InlineData("response_buffer_size = \"100MiB\"", "must be at most 64 MiB")]
    public void A_wrong_limit_stops_start_up_naming_the_problem(string line, string message)
    {
        using var config = new TempConfig("[limits]\n" + line + "\n");

        var errors = config.Load().Errors;

        Assert.Contains(errors, e => e.Message.Contains(message, StringComparison.Ordinal) && e.ToString().Contains("tapster.toml:2:", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("/api", "/api", true)]
    [InlineData("/api", "/api/orders", true)]
    [InlineData("/api", "/apiary", false)]
    [InlineData("/api/", "/api/x", true)]
    [InlineData("/", "/anything", true)]
    public void A_prefix_covers_its_path_segments_only(string prefix, string path, bool covered) =>
        Assert.Equal(covered, Tapster.Edge.PathPrefix.Covers(path, prefix));

    [Fact]
    public void IPv6_clients_share_a_bucket_per_64_and_IPv4_mapped_ones_count_as_IPv4()
    {
        Assert.Equal(RateLimits.AddressKey(IPAddress.Parse("2001:db8:1:2::1")), RateLimits.AddressKey(IPAddress.Parse("2001:db8:1:2:ffff::9")));
        Assert.NotEqual(RateLimits.AddressKey(IPAddress.Parse("2001:db8:1:2::1")), RateLimits.AddressKey(IPAddress.Parse("2001:db8:1:3::1")));
        Assert.Equal("192.0.2.1", RateLimits.AddressKey(IPAddress.Parse("::ffff:192.0.2.1")));
    }

    [Fact]
    public void A_header_keyed_rule_falls_back_to_the_address_when_the_header_is_missing()
    {
        var rule = new RateLimitRule("/api", 1, TimeSpan.FromSeconds(1), 1, "X-API-Key");
        var withKey = new DefaultHttpContext();
        withKey.Request.Headers["X-API-Key"] = "192.0.2.1";
        withKey.Connection.RemoteIpAddress = IPAddress.Parse("192.0.2.1");
        var withoutKey = new DefaultHttpContext();
        withoutKey.Connection.RemoteIpAddress = IPAddress.Parse("192.0.2.1");

        // A key that looks like an address cannot land in that address's bucket.
        Assert.NotEqual(RateLimits.ClientKey(rule, withKey), RateLimits.ClientKey(rule, withoutKey));
        Assert.Equal("ip 192.0.2.1", RateLimits.ClientKey(rule, withoutKey));
    }

    [Fact]
    public void A_long_header_key_is_kept_as_its_hash()
    {
        var rule = new RateLimitRule("/api", 1, TimeSpan.FromSeconds(1), 1, "X-API-Key");
        var context = new DefaultHttpContext();
        context.Request.Headers["X-API-Key"] = new string('k', 30_000);

        var key = RateLimits.ClientKey(rule, context);

        Assert.True(key.Length < 64, key);
        context.Request.Headers["X-API-Key"] = new string('k', 29_999) + "j";
        Assert.NotEqual(key, RateLimits.ClientKey(rule, context));
    }

    [Theory]
    [InlineData("/%2Fhealth", "/health")]
    [InlineData("//health", "/health")]
    [InlineData("/environ%2Flimited", "/environ/limited")]
    [InlineData("/environ/limited/%2e%2e/x?q=1", "/environ/limited/../x")]
    [InlineData("/caf%C3%A9//menu", "/caf\u00e9/menu")]
    public void The_routed_path_is_the_raw_target_decoded_with_slash_runs_merged(string rawTarget, string appPath)
    {
        var context = new DefaultHttpContext();
        context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpRequestFeature>()!.RawTarget = rawTarget;

        Assert.Equal(appPath, Tapster.Edge.RoutedPath.Of(context));
    }
}

using System.Net;
using Tapster.Tests.Unit.Configuration;

namespace Tapster.Tests.Unit.Edge.Proxy;

public sealed class ProxyConfigTests
{
    [Fact]
    public void Trusted_proxies_come_from_the_file_or_gunicorns_flag_name()
    {
        using var config = new TempConfig("[proxy]\ntrusted = [\"10.0.0.0/8\", \"192.168.1.7\"]\n");

        Assert.Equal([IPNetwork.Parse("10.0.0.0/8"), IPNetwork.Parse("192.168.1.7/32")], config.LoadValid().Proxy.Trusted.Networks);
        Assert.Equal([IPNetwork.Parse("172.16.0.0/12")], config.LoadValid(environment: new() { ["TAPSTER_FORWARDED_ALLOW_IPS"] = "172.16.0.0/12" }).Proxy.Trusted.Networks);
    }

    [Fact]
    public void An_invalid_CIDR_stops_start_up_naming_the_setting()
    {
        using var config = new TempConfig("[proxy]\ntrusted = [\"10.0.0.1/8\"]\n");

        var error = Assert.Single(config.Load().Errors);

        Assert.Contains("tapster.toml:2:", error.ToString(), StringComparison.Ordinal);
        Assert.Contains("proxy.trusted", error.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("protocol = [\"127.0.0.1:8000\"]", "needs proxy.trusted")]
    [InlineData("trusted = [\"10.0.0.0/8\"]\nprotocol = [\"127.0.0.1:9999\"]", "'127.0.0.1:9999' is not one of the listeners")]
    public void A_PROXY_protocol_listener_needs_trusted_proxies_and_must_be_a_listener(string toml, string message)
    {
        using var config = new TempConfig("[proxy]\n" + toml + "\n");

        Assert.Contains(config.Load().Errors, e => e.Message.Contains(message, StringComparison.Ordinal));
    }
}

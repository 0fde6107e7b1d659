using System.Net;
using Microsoft.AspNetCore.Http;
using Tapster.Edge.Proxy;

namespace Tapster.Tests.Unit.Edge.Proxy;

public sealed class ForwardedHeadersTests
{
    static TrustedProxies Trust(params string[] networks) =>
        TrustedProxies.ParseAll(networks, out var error) ?? throw new ArgumentException(error);

    static DefaultHttpContext Request(string peer, params (string Name, string Value)[] headers)
    {
        var context = new DefaultHttpContext();
        context.Connection.RemoteIpAddress = IPAddress.Parse(peer);
        context.Connection.RemotePort = 50000;
        context.Request.Scheme = "http";
        context.Request.Host = new HostString("10.0.0.5:8000");
        foreach (var (name, value) in headers)
        {
            context.Request.Headers.Append(name, value);
        }

        return context;
    }

    [Fact]
    public void From_an_untrusted_peer_every_forwarding_header_is_removed_and_nothing_changes()
    {
        var context = Request("203.0.113.50", ("X-Forwarded-For", "1.2.3.4"), ("X-Forwarded-Proto", "https"), ("X-Forwarded-Host", "evil.test"),
            ("Forwarded", "for=1.2.3.4"), ("X-Real-IP", "1.2.3.4"), ("X-Forwarded-Port", "443"), ("X-Forwarded-Prefix", "/x"), ("Accept", "*/*"));

        new ForwardedHeaders(Trust("10.0.0.0/8")).Apply(context);

        Assert.Equal(IPAddress.Parse("203.0.113.50"), context.Connection.RemoteIpAddress);
        Assert.Equal("http", context.Request.Scheme);
        Assert.Equal(["Accept", "Host"], context.Request.Headers.Keys.Order());
    }

    [Fact]
    public void From_a_trusted_proxy_X_Forwarded_headers_name_the_client_scheme_and_host()
    {
        var context = Request("10.0.0.2", ("X-Forwarded-For", "198.51.100.7"), ("X-Forwarded-Proto", "https"), ("X-Forwarded-Host", "shop.example"));

        new ForwardedHeaders(Trust("10.0.0.0/8")).Apply(context);

        Assert.Equal(IPAddress.Parse("198.51.100.7"), context.Connection.RemoteIpAddress);
        Assert.Equal("https", context.Request.Scheme);
        Assert.True(context.Request.IsHttps);
        Assert.Equal("shop.example", context.Request.Host.Value);
        Assert.Equal("198.51.100.7", context.Request.Headers["X-Forwarded-For"]);
    }

    [Fact]
    public void The_walk_stops_at_the_first_untrusted_address_so_a_forged_entry_is_not_believed()
    {
        // The client wrote "6.6.6.6" itself; the trusted balancer appended the address it really saw.
        var context = Request("10.0.0.2", ("X-Forwarded-For", "6.6.6.6, 198.51.100.7, 10.0.0.9"));

        new ForwardedHeaders(Trust("10.0.0.0/8")).Apply(context);

        Assert.Equal(IPAddress.Parse("198.51.100.7"), context.Connection.RemoteIpAddress);
    }

    [Fact]
    public void A_clients_own_Forwarded_header_passed_through_by_an_X_Forwarded_proxy_is_not_believed()
    {
        // nginx, HAProxy and AWS ALB append X-Forwarded-For and pass a client's Forwarded on untouched.
        var context = Request("10.0.0.2", ("X-Forwarded-For", "198.51.100.7"),
            ("Forwarded", "for=9.9.9.1;proto=https;host=evil.example"));

        new ForwardedHeaders(Trust("10.0.0.0/8")).Apply(context);

        Assert.Equal(IPAddress.Parse("198.51.100.7"), context.Connection.RemoteIpAddress);
        Assert.Equal("http", context.Request.Scheme);
        Assert.Equal("10.0.0.5:8000", context.Request.Host.Value);
        Assert.False(context.Request.Headers.ContainsKey("Forwarded"));
    }

    [Theory]
    [InlineData("X-Forwarded-Proto", "https", "X-Forwarded-Host", "shop.example")]
    [InlineData("Forwarded", "proto=https;host=shop.example", "X-Unrelated", "1")]
    public void A_trusted_proxy_that_names_only_the_scheme_and_host_sets_them_and_keeps_the_peer(string name, string value, string otherName, string otherValue)
    {
        var context = Request("10.0.0.2", (name, value), (otherName, otherValue));

        new ForwardedHeaders(Trust("10.0.0.0/8")).Apply(context);

        Assert.Equal(IPAddress.Parse("10.0.0.2"), context.Connection.RemoteIpAddress);
        Assert.Equal(50000, context.Connection.RemotePort);
        Assert.Equal("https", context.Request.Scheme);
        Assert.Equal("shop.example", context.Request.Host.Value);
    }

    [Fact]
    public void Beside_Forwarded_the_X_Forwarded_headers_a_client_sent_are_removed()
    {
        var context = Request("10.0.0.2", ("Forwarded", "for=198.51.100.7;proto=https;host=good.example"),
            ("X-Forwarded-Host", "evil.example"), ("X-Forwarded-Proto", "http"), ("X-Forwarded-Port", "1"), ("X-Forwarded-Prefix", "/evil"));

        new ForwardedHeaders(Trust("10.0.0.0/8")).Apply(context);

        Assert.Equal("good.example", context.Request.Host.Value);
        Assert.Equal("https", context.Request.Scheme);
        Assert.DoesNotContain(context.Request.Headers.Keys, k => k.StartsWith("X-Forwarded-", StringComparison.Ordinal));
    }

    [Fact]
    public void RFC_7239_Forwarded_is_read_without_X_Forwarded_For_with_its_quoted_IPv6_node_and_port()
    {
        var context = Request("10.0.0.2",
            ("Forwarded", "for=\"[2001:db8:cafe::17]:4711\";proto=https;host=shop.example, for=10.0.0.9;proto=http"));

        new ForwardedHeaders(Trust("10.0.0.0/8")).Apply(context);

        Assert.Equal(IPAddress.Parse("2001:db8:cafe::17"), context.Connection.RemoteIpAddress);
        Assert.Equal(4711, context.Connection.RemotePort);
        Assert.Equal("https", context.Request.Scheme);
        Assert.Equal("shop.example", context.Request.Host.Value);
    }

    [Theory]
    [InlineData("unknown")]
    [InlineData("_hidden")]
    [InlineData("not-an-address")]
    [InlineData("")]
    public void A_hop_that_is_not_an_address_changes_nothing(string forwardedFor)
    {
        var context = Request("10.0.0.2", ("X-Forwarded-For", forwardedFor));

        new ForwardedHeaders(Trust("10.0.0.0/8")).Apply(context);

        Assert.Equal(IPAddress.Parse("10.0.0.2"), context.Connection.RemoteIpAddress);
    }

    [Fact]
    public void A_scheme_other_than_http_or_https_and_a_host_with_odd_characters_are_ignored()
    {
        var context = Request("10.0.0.2", ("X-Forwarded-For", "198.51.100.7"), ("X-Forwarded-Proto", "javascript"), ("X-Forwarded-Host", "a.test/evil?x"));

        new ForwardedHeaders(Trust("10.0.0.0/8")).Apply(context);

        Assert.Equal("http", context.Request.Scheme);
        Assert.Equal("10.0.0.5:8000", context.Request.Host.Value);
    }

    [Fact]
    public void A_single_proto_value_belongs_to_the_nearest_proxy()
    {
        var hops = ForwardedHeaders.ParseXForwarded("198.51.100.7, 10.0.0.9", "https", default);

        Assert.Equal([null, "https"], hops.Select(h => h.Proto));
    }

    [Theory]
    [InlineData("192.0.2.1", "192.0.2.1", 0)]
    [InlineData("192.0.2.1:8080", "192.0.2.1", 8080)]
    [InlineData("[2001:db8::1]:443", "2001:db8::1", 443)]
    [InlineData("2001:db8::1", "2001:db8::1", 0)]
    public void Nodes_are_read_as_proxies_write_them(string text, string address, int port) =>
        Assert.Equal((IPAddress.Parse(address), port), ForwardedHeaders.ParseNode(text));

    [Theory]
    [InlineData("192.0.2")]
    [InlineData("12345")]
    [InlineData("[2001:db8::1")]
    [InlineData("192.0.2.1:99999")]
    [InlineData("0177.0.0.1")]
    [InlineData("010.010.010.010")]
    [InlineData("0x7f.0.0.1")]
    [InlineData("127.1")]
    public void Nodes_that_are_not_addresses_are_refused(string text) =>
        Assert.Null(ForwardedHeaders.ParseNode(text).Address);

    [Theory]
    [InlineData("10.0.0.0/8", "10.200.1.1", true)]
    [InlineData("10.0.0.0/8", "11.0.0.1", false)]
    [InlineData("192.168.1.7", "192.168.1.7", true)]
    [InlineData("2001:db8::/32", "2001:db8:ffff::1", true)]
    [InlineData("2001:0db8::/32", "2001:db8::1", true)]
    [InlineData("127.0.0.1", "::ffff:127.0.0.1", true)]
    [InlineData("*", "8.8.8.8", true)]
    [InlineData("*", "2001:db8::1", true)]
    public void Trusted_networks_match_addresses(string network, string address, bool trusted) =>
        Assert.Equal(trusted, Trust(network).Contains(IPAddress.Parse(address)));

    [Theory]
    [InlineData("10.0.0.1/8", "has bits set past its prefix length")]
    [InlineData("10.0.0.0/33", "is not an IP address or CIDR network")]
    [InlineData("example.com", "is not an IP address or CIDR network")]
    public void A_wrong_network_is_refused_saying_why(string text, string message)
    {
        Assert.False(TrustedProxies.TryParse(text, out _, out var error));
        Assert.Contains(message, error, StringComparison.Ordinal);
    }
}

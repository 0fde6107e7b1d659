using Tapster.Tests.Unit.Configuration;
using Tapster.Tls;

namespace Tapster.Tests.Unit.Tls.Acme;

public sealed class AcmeConfigTests
{
    [Fact]
    public void Acme_domains_alone_are_enough_for_a_tls_listener_and_default_to_lets_encrypt_over_http01()
    {
        using var config = new TempConfig("""
            [tls]
            listen = ["127.0.0.1:8443"]
            acme_domains = ["shop.example.com", "www.shop.example.com"]
            acme_email = "ops@example.com"
            """);

        var tls = config.LoadValid().Tls;

        Assert.Equal(["shop.example.com", "www.shop.example.com"], tls.AcmeDomains);
        Assert.Equal(new Uri(TlsSettings.LetsEncryptProduction), tls.AcmeDirectoryUrl);
        Assert.Equal("http-01", tls.AcmeChallenge);
    }

    [Fact]
    public void The_staging_flag_picks_lets_encrypt_staging()
    {
        using var config = new TempConfig("""
            [tls]
            listen = ["127.0.0.1:8443"]
            acme_domains = ["shop.example.com"]
            """);

        var tls = config.LoadValid(flags: new() { ["tls.acme_staging"] = "true" }).Tls;

        Assert.Equal(new Uri(TlsSettings.LetsEncryptStaging), tls.AcmeDirectoryUrl);
    }

    [Theory]
    [InlineData("acme_domains = [\"*.example.com\"]", "tls.acme_domains '*.example.com': wildcard certificates need the DNS-01 challenge")]
    [InlineData("acme_domains = [\"a.example\", \"A.example\"]", "tls.acme_domains 'a.example' is listed twice")]
    [InlineData("acme_domains = [\"localhost\"]", "tls.acme_domains 'localhost' is not a fully qualified host name")]
    [InlineData("acme_domains = [\"10.0.0.1\"]", "tls.acme_domains '10.0.0.1' is not a fully qualified host name")]
    [InlineData("acme_domains = [\"../../etc/x.example\"]", "tls.acme_domains '../../etc/x.example' is not a fully qualified host name")]
    [InlineData("acme_domains = [\"a..example\"]", "tls.acme_domains 'a..example' is not a fully qualified host name")]
    [InlineData("acme_domains = [\"a/b.example\"]", "tls.acme_domains 'a/b.example' is not a fully qualified host name")]
    [InlineData("acme_domains = [\"a.example\"]\nacme_directory = \"http://ca.example/dir\"", "tls.acme_directory 'http://ca.example/dir' is not an https URL")]
    [InlineData("acme_domains = [\"a.example\"]\nacme_email = \"not an address\"", "tls.acme_email 'not an address' is not an email address")]
    [InlineData("acme_domains = [\"a.example\"]\nacme_challenge = \"dns-01\"", "tls.acme_challenge 'dns-01' is not a supported challenge")]
    [InlineData("acme_domains = [\"a.example\"]\nacme_ca = \"missing.pem\"", "tls.acme_ca cannot read")]
    [InlineData("acme_domains = [\"a.example\"]\nacme_staging = true\nacme_directory = \"https://ca.example/dir\"", "tls.acme_staging cannot be combined with tls.acme_directory")]
    public void A_wrong_acme_setting_is_named_with_the_problem(string lines, string expected)
    {
        using var config = new TempConfig($"[tls]\nlisten = [\"127.0.0.1:8443\"]\n{lines}\n");

        // The first error; a refused name may leave tls.listen without certificates, a second one.
        var error = config.Load().Errors[0];

        Assert.StartsWith(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Acme_domains_without_a_tls_listener_are_refused()
    {
        using var config = new TempConfig("""
            [tls]
            acme_domains = ["shop.example.com"]
            """);

        var error = Assert.Single(config.Load().Errors);

        Assert.StartsWith("tls.acme_domains needs tls.listen", error.Message, StringComparison.Ordinal);
    }
}

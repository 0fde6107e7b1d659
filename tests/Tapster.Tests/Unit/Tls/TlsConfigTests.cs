using Microsoft.AspNetCore.Http;
using Tapster.Edge.Headers;
using Tapster.Tests.Unit.Configuration;
using Tapster.Tls;

namespace Tapster.Tests.Unit.Tls;

public sealed class TlsConfigTests
{
    [Fact]
    public void Certificates_AreReadRelativeToTheConfigFile()
    {
        using var config = new TempConfig();
        TestCertificates.Write(config.Directory, "site", TestCertificates.Create(["example.com"]));
        config.Write("tapster.toml", """
            [tls]
            listen = ["127.0.0.1:8443"]
            certificates = [{ cert = "site.pem", key = "site.key" }]
            """);

        var settings = config.LoadValid();

        Assert.Equal(["127.0.0.1:8443"], settings.Tls.Listen);
        Assert.Equal([new CertificateFiles(Path.Combine(config.Directory, "site.pem"), Path.Combine(config.Directory, "site.key"))], settings.Tls.Certificates);
    }

    [Fact]
    public void Flags_GiveListenersAndCertificates()
    {
        using var config = new TempConfig();
        var (cert, key) = TestCertificates.Write(config.Directory, "site", TestCertificates.Create(["example.com"]));

        var settings = config.LoadValid(flags: new() { ["tls.listen"] = "127.0.0.1:8443", ["tls.certificates"] = $"{cert}={key}" });

        Assert.Equal([new CertificateFiles(cert, key)], settings.Tls.Certificates);
    }

    [Fact]
    public void A_missing_certificate_file_is_named_with_the_setting_and_its_line()
    {
        using var config = new TempConfig("""
            [tls]
            listen = ["127.0.0.1:8443"]
            certificates = [{ cert = "nope.pem", key = "nope.key" }]
            """);

        var error = config.Load().Errors[0];

        Assert.Contains("tapster.toml:3:", error.ToString(), StringComparison.Ordinal);
        Assert.Contains("tls.certificates certificate file", error.Message, StringComparison.Ordinal);
        Assert.Contains("nope.pem' does not exist", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_key_of_another_certificate_is_refused()
    {
        using var config = new TempConfig();
        TestCertificates.Write(config.Directory, "a", TestCertificates.Create(["a.test"]));
        TestCertificates.Write(config.Directory, "b", TestCertificates.Create(["b.test"]));
        config.Write("tapster.toml", """
            [tls]
            listen = ["127.0.0.1:8443"]
            certificates = [{ cert = "a.pem", key = "b.key" }]
            """);

        var error = config.Load().Errors[0];

        Assert.Contains("b.key' is not the private key of", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_key_file_without_a_key_is_refused()
    {
        using var config = new TempConfig();
        TestCertificates.Write(config.Directory, "a", TestCertificates.Create(["a.test"]));
        config.Write("a.key", "not a key");
        config.Write("tapster.toml", """
            [tls]
            certificates = [{ cert = "a.pem", key = "a.key" }]
            """);

        var error = Assert.Single(config.Load().Errors);

        Assert.Contains("a.key' holds no readable PEM private key", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_unix_socket_is_refused_as_a_tls_listener()
    {
        using var config = new TempConfig("""
            [tls]
            listen = ["unix:/run/tapster/tls.sock"]
            """);

        Assert.Contains(config.Load().Errors, e => e.Message.Contains("belongs in http.listen", StringComparison.Ordinal));
    }

    [Fact]
    public void A_listener_without_certificates_is_refused()
    {
        using var config = new TempConfig("""
            [tls]
            listen = ["127.0.0.1:8443"]
            """);

        var error = Assert.Single(config.Load().Errors);

        Assert.StartsWith("tls.listen needs at least one certificate", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_refused_certificate_is_the_only_error_not_followed_by_a_listener_without_one()
    {
        using var config = new TempConfig("""
            [tls]
            listen = ["127.0.0.1:8443"]
            certificates = [{ cert = "missing.pem", key = "missing.key" }]
            """);

        var error = Assert.Single(config.Load().Errors);

        Assert.StartsWith("tls.certificates", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_malformed_entry_says_what_is_expected()
    {
        using var config = new TempConfig("""
            [tls]
            certificates = ["a.pem"]
            """);

        var error = Assert.Single(config.Load().Errors);

        Assert.Contains("tls.certificates must be an array of { cert = ", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(443, "shop.example:8080", "/a/b?q=1", "https://shop.example/a/b?q=1")]
    [InlineData(8443, "shop.example", "/", "https://shop.example:8443/")]
    [InlineData(8443, "[::1]:8080", "/x", "https://[::1]:8443/x")]
    public void The_redirect_keeps_the_host_name_and_the_target(int port, string host, string target, string expected) =>
        Assert.Equal(expected, new HttpsRedirect(port, new HeaderPolicy(new(), new())).Location(new HostString(host), null, target));
}

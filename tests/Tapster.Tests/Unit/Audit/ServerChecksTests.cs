using Tapster.Audit;
using Tapster.Configuration;

namespace Tapster.Tests.Unit.Audit;

public class ServerChecksTests
{
    static Dictionary<string, CheckResult> Evaluate(ServeSettings settings, bool root = false, int cores = 2) =>
        ServerChecks.Evaluate(settings, cores, root).ToDictionary(r => r.Id);

    static ServeSettings Settings(params string[] bind) => new() { App = ".", Workers = 5, Bind = bind.Length == 0 ? ["127.0.0.1:8000"] : bind };

    [Fact]
    public void Evaluate_Defaults_PassEverything() =>
        Assert.All(Evaluate(Settings()).Values, r => Assert.Equal(CheckStatus.Pass, r.Status));

    [Theory]
    [InlineData("127.0.0.1:8000", false)]
    [InlineData("localhost:8000", false)]
    [InlineData("[::1]:8000", false)]
    [InlineData("0.0.0.0:8000", true)]
    [InlineData(":8000", true)]
    [InlineData("[::]:8000", true)]
    [InlineData("10.0.0.5:8000", true)]
    [InlineData("unix:/run/shop/app.sock", false)]
    [InlineData("fd://3", true)]
    public void IsPublic_AnythingButLoopback(string bind, bool expected) => Assert.Equal(expected, ServerChecks.IsPublic(bind));

    [Fact]
    public void Evaluate_PublicPlainHttpWithoutHttps_WarnsNamingTapstersOwnTls()
    {
        var tls = Evaluate(Settings("127.0.0.1:8000", "0.0.0.0:80"))["tls"];
        Assert.Equal(CheckStatus.Warn, tls.Status);
        Assert.StartsWith("0.0.0.0:80 is reachable", tls.Detail, StringComparison.Ordinal);
        Assert.Contains("--tls-bind 0.0.0.0:443 with --acme-domain", tls.Fix, StringComparison.Ordinal);
    }

    [Fact]
    public void Evaluate_PublicPlainHttpBesideHttps_PassesAsARedirect()
    {
        var tls = Evaluate(Settings("0.0.0.0:80") with { Tls = new Tapster.Tls.TlsSettings { Listen = ["0.0.0.0:443"] } })["tls"];
        Assert.Equal(CheckStatus.Pass, tls.Status);
        Assert.Equal("HTTPS on 0.0.0.0:443; plain HTTP on 0.0.0.0:80 only redirects to it", tls.Detail);
    }

    [Theory]
    [InlineData(false, false, "Pass")]
    [InlineData(true, false, "Warn")]
    [InlineData(true, true, "Fail")]
    public void Evaluate_Root_WarnsAndFailsWhenAlsoPublic(bool root, bool publicBind, string expected) =>
        Assert.Equal(Enum.Parse<CheckStatus>(expected), Evaluate(publicBind ? Settings("0.0.0.0:80") : Settings(), root)["root-user"].Status);

    [Theory]
    [InlineData(1, "Warn")]
    [InlineData(2, "Pass")]
    [InlineData(8, "Pass")]
    [InlineData(9, "Warn")]
    public void Evaluate_Workers_BetweenTwoAndFourPerCore(int workers, string expected) =>
        Assert.Equal(Enum.Parse<CheckStatus>(expected), Evaluate(Settings() with { Workers = workers }, cores: 2)["workers"].Status);

    [Theory]
    [InlineData(32, "Pass")]
    [InlineData(33, "Warn")]
    public void Evaluate_Threads_AtMost32(int threads, string expected) =>
        Assert.Equal(Enum.Parse<CheckStatus>(expected), Evaluate(Settings() with { Threads = threads })["threads"].Status);

    [Theory]
    [InlineData(4.9, "Warn")]
    [InlineData(5, "Pass")]
    [InlineData(120, "Pass")]
    [InlineData(121, "Warn")]
    public void Evaluate_Timeout_Between5And120Seconds(double seconds, string expected) =>
        Assert.Equal(Enum.Parse<CheckStatus>(expected), Evaluate(Settings() with { Timeout = TimeSpan.FromSeconds(seconds) })["timeout"].Status);
}

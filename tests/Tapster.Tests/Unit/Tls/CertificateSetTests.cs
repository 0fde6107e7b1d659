using Tapster.Tls;

namespace Tapster.Tests.Unit.Tls;

public sealed class CertificateSetTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("tapster-tls-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private ServerCertificate Load(string name, params string[] dnsNames)
    {
        var (cert, key) = TestCertificates.Write(_dir, name, TestCertificates.Create(dnsNames));
        var loaded = CertificateLoader.Load(new CertificateFiles(cert, key), out var error);
        Assert.True(loaded is not null, error);
        return loaded!;
    }

    [Fact]
    public void Select_PicksByExactNameThenWildcardElseTheFirst()
    {
        var main = Load("main", "example.com", "www.example.com");
        var wildcard = Load("wild", "*.example.com");
        var other = Load("other", "other.test");
        var set = new CertificateSet([main, wildcard, other]);

        Assert.Same(main, set.Select("www.example.com"));
        Assert.Same(main, set.Select("EXAMPLE.com."));
        Assert.Same(wildcard, set.Select("api.example.com"));
        Assert.Same(other, set.Select("other.test"));
        Assert.Same(main, set.Select(null));
        Assert.Same(main, set.Select(""));
        Assert.Same(main, set.Select("unknown.test"));
        Assert.Same(main, set.Select("a.b.example.com"));
    }

    [Fact]
    public void Select_PrefersAnExactNameOverAnEarlierWildcard()
    {
        var wildcard = Load("wild", "*.example.com");
        var exact = Load("api", "api.example.com");

        Assert.Same(exact, new CertificateSet([wildcard, exact]).Select("api.example.com"));
    }

    [Theory]
    [InlineData("*.example.com", "a.example.com", true)]
    [InlineData("*.example.com", "A.EXAMPLE.COM", true)]
    [InlineData("*.example.com", "example.com", false)]
    [InlineData("*.example.com", "a.b.example.com", false)]
    [InlineData("*.example.com", ".example.com", false)]
    [InlineData("example.com", "example.com", false)]
    public void WildcardMatches_CoversExactlyOneLabel(string pattern, string name, bool expected) =>
        Assert.Equal(expected, CertificateSet.WildcardMatches(pattern, name));

    [Fact]
    public void Load_ReadsTheSanNames() =>
        Assert.Equal(["example.com", "*.example.com"], Load("main", "example.com", "*.example.com").Names);
}

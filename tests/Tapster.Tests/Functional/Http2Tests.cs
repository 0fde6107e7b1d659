using System.Net;

namespace Tapster.Tests.Functional;

[Collection(FunctionalGroup.Name)]
public class Http2Tests(SharedProbeServer shared)
{
    // Kestrel answers an h2c prior-knowledge connection with GOAWAY HTTP_1_1_REQUIRED: the endpoint
    // offers HTTP/1.1 and HTTP/2, and without TLS (ALPN) Kestrel falls back to HTTP/1.1 only.
    [Fact]
    public async Task HTTP_2_with_prior_knowledge_over_cleartext_is_served()
    {
        using var client = new HttpClient
        {
            BaseAddress = shared.Server.BaseAddress,
            DefaultRequestVersion = HttpVersion.Version20,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Timeout = TimeSpan.FromSeconds(10),
        };
        using var r = await client.GetAsync("/");
        Assert.Equal(HttpVersion.Version20, r.Version);
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.Equal("ok", await r.Content.ReadAsStringAsync());
    }
}

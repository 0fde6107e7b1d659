using System.Buffers.Text;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Tapster.Tls.Acme;

namespace Tapster.Tests.Unit.Tls.Acme;

public sealed class AcmeClientTests
{
    static readonly Uri DirectoryUrl = new("https://ca.test/dir");

    [Fact]
    public void Sign_MakesAnEs256JwsWithJwkUntilTheAccountExistsAndKidAfter()
    {
        using var key = AccountKey.Create();
        var url = new Uri("https://ca.test/new-acct");

        var withJwk = Parse(key.Sign(url, "nonce-1", accountUrl: null, "{\"a\":1}"u8.ToArray()));
        var withKid = Parse(key.Sign(url, "nonce-2", new Uri("https://ca.test/acct/7"), payload: null));

        Assert.Equal("ES256", withJwk.Header.GetProperty("alg").GetString());
        Assert.Equal(key.Jwk, withJwk.Header.GetProperty("jwk").GetRawText());
        Assert.False(withJwk.Header.TryGetProperty("kid", out _));
        Assert.Equal("nonce-1", withJwk.Header.GetProperty("nonce").GetString());
        Assert.Equal(url.AbsoluteUri, withJwk.Header.GetProperty("url").GetString());
        Assert.Equal("https://ca.test/acct/7", withKid.Header.GetProperty("kid").GetString());
        Assert.False(withKid.Header.TryGetProperty("jwk", out _));
        // POST-as-GET: the payload is the empty string, not "{}".
        Assert.Equal("", withKid.Payload);
        Assert.True(Verifies(key, withJwk) && Verifies(key, withKid));
        Assert.DoesNotContain('=', withJwk.Raw);
    }

    [Fact]
    public void Thumbprint_IsTheSha256OfTheCanonicalJwk()
    {
        using var key = AccountKey.Create();

        using var jwk = JsonDocument.Parse(key.Jwk);
        Assert.Equal(["crv", "kty", "x", "y"], jwk.RootElement.EnumerateObject().Select(p => p.Name));
        Assert.Equal(Base64Url.EncodeToString(SHA256.HashData(Encoding.UTF8.GetBytes(key.Jwk))), key.Thumbprint);
        Assert.Equal($"token-1.{key.Thumbprint}", key.KeyAuthorization("token-1"));
    }

    [Fact]
    public async Task A_bad_nonce_is_retried_with_the_nonce_the_error_carries()
    {
        var ca = new FakeCa();
        ca.Answers.Enqueue(() => Problem(HttpStatusCode.BadRequest, "urn:ietf:params:acme:error:badNonce", "stale", nonce: "from-the-error"));
        ca.Answers.Enqueue(() => new HttpResponseMessage(HttpStatusCode.Created) { Content = new StringContent("{}"), Headers = { Location = new Uri("https://ca.test/acct/1") } });
        using var key = AccountKey.Create();
        using var http = new HttpClient(ca);
        using var client = new AcmeClient(http, DirectoryUrl, key);

        await client.RegisterAsync("ops@shop.test", CancellationToken.None);

        Assert.Equal(["first-nonce", "from-the-error"], ca.NoncesUsed);
    }

    [Fact]
    public async Task A_problem_document_becomes_an_error_with_the_cas_words()
    {
        var ca = new FakeCa();
        ca.Answers.Enqueue(() => Problem(HttpStatusCode.Forbidden, "urn:ietf:params:acme:error:rateLimited", "too many certificates", nonce: "n"));
        using var key = AccountKey.Create();
        using var http = new HttpClient(ca);
        using var client = new AcmeClient(http, DirectoryUrl, key);

        var error = await Assert.ThrowsAsync<AcmeException>(() => client.RegisterAsync(null, CancellationToken.None));

        Assert.Equal("urn:ietf:params:acme:error:rateLimited", error.ProblemType);
        Assert.Contains("403 urn:ietf:params:acme:error:rateLimited: too many certificates", error.Message, StringComparison.Ordinal);
    }

    static HttpResponseMessage Problem(HttpStatusCode status, string type, string detail, string nonce) => new(status)
    {
        Content = new StringContent($$"""{"type":"{{type}}","detail":"{{detail}}"}""", Encoding.UTF8, "application/problem+json"),
        Headers = { { "Replay-Nonce", nonce } },
    };

    static (JsonElement Header, string Payload, string Raw, JsonElement Jws) Parse(byte[] body)
    {
        var jws = JsonDocument.Parse(body).RootElement;
        var header = JsonDocument.Parse(Base64Url.DecodeFromChars(jws.GetProperty("protected").GetString())).RootElement;
        return (header, jws.GetProperty("payload").GetString()!, Encoding.UTF8.GetString(body), jws);
    }

    static bool Verifies(AccountKey key, (JsonElement Header, string Payload, string Raw, JsonElement Jws) parsed)
    {
        using var jwk = JsonDocument.Parse(key.Jwk);
        using var ecdsa = ECDsa.Create(new ECParameters
        {
            Curve = ECCurve.NamedCurves.nistP256,
            Q = new ECPoint
            {
                X = Base64Url.DecodeFromChars(jwk.RootElement.GetProperty("x").GetString()),
                Y = Base64Url.DecodeFromChars(jwk.RootElement.GetProperty("y").GetString()),
            },
        });
        var signingInput = Encoding.ASCII.GetBytes($"{parsed.Jws.GetProperty("protected").GetString()}.{parsed.Payload}");
        return ecdsa.VerifyData(signingInput, Base64Url.DecodeFromChars(parsed.Jws.GetProperty("signature").GetString()), HashAlgorithmName.SHA256);
    }

    /// <summary>An ACME server in memory: the directory, newNonce, then the queued answers to the POSTs, recording each nonce used.</summary>
    sealed class FakeCa : HttpMessageHandler
    {
        public Queue<Func<HttpResponseMessage>> Answers { get; } = new();

        public List<string> NoncesUsed { get; } = [];

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (request.Method == HttpMethod.Get)
            {
                return new HttpResponseMessage(HttpStatusCode.OK)
                {
                    Content = new StringContent("""{"newNonce":"https://ca.test/nonce","newAccount":"https://ca.test/new-acct","newOrder":"https://ca.test/new-order"}"""),
                };
            }

            if (request.Method == HttpMethod.Head)
            {
                return new HttpResponseMessage(HttpStatusCode.OK) { Headers = { { "Replay-Nonce", "first-nonce" } } };
            }

            Assert.Equal("application/jose+json", request.Content!.Headers.ContentType!.MediaType);
            var jws = JsonDocument.Parse(await request.Content.ReadAsByteArrayAsync(cancellationToken)).RootElement;
            var header = JsonDocument.Parse(Base64Url.DecodeFromChars(jws.GetProperty("protected").GetString())).RootElement;
            NoncesUsed.Add(header.GetProperty("nonce").GetString()!);
            return Answers.Dequeue()();
        }
    }
}

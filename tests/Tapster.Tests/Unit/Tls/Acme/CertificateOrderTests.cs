using System.Buffers.Text;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Time.Testing;
using Tapster.Tls.Acme;

namespace Tapster.Tests.Unit.Tls.Acme;

public sealed class CertificateOrderTests
{
    const string Ca = "https://ca.test";

    readonly Http01Responder http01 = new();
    readonly TimerWatchingTime time = new();

    [Fact]
    public async Task ObtainAsync_AnswersTheChallengeWaitsAsToldByRetryAfterFinalizesWithACsrAndDownloadsTheChain()
    {
        using var issued = TestCertificates.Create(["shop.test"]);
        using var key = AccountKey.Create();
        var keyAuthorization = key.KeyAuthorization("tok-1");
        string? servedWhileValidating = null;
        byte[]? csr = null;
        var ca = new ScriptedCa(new()
        {
            [$"{Ca}/new-order"] = [_ => Json(HttpStatusCode.Created, $$"""{"status":"pending","authorizations":["{{Ca}}/authz/1"],"finalize":"{{Ca}}/order/1/finalize"}""", location: $"{Ca}/order/1")],
            [$"{Ca}/authz/1"] =
            [
                _ => Json(HttpStatusCode.OK, $$"""{"status":"pending","challenges":[{"type":"tls-alpn-01","url":"{{Ca}}/chall/2","token":"tok-2"},{"type":"http-01","url":"{{Ca}}/chall/1","token":"tok-1"}]}"""),
                _ => Json(HttpStatusCode.OK, """{"status":"pending"}""", retryAfter: 3),
                _ => Json(HttpStatusCode.OK, """{"status":"valid"}"""),
            ],
            [$"{Ca}/chall/1"] =
            [
                payload =>
                {
                    Assert.Equal("{}", payload);
                    servedWhileValidating = Fetch("/.well-known/acme-challenge/tok-1");
                    return Json(HttpStatusCode.OK, """{"status":"processing"}""");
                },
            ],
            [$"{Ca}/order/1"] =
            [
                _ => Json(HttpStatusCode.OK, $$"""{"status":"ready","finalize":"{{Ca}}/order/1/finalize"}"""),
                _ => Json(HttpStatusCode.OK, $$"""{"status":"valid","certificate":"{{Ca}}/cert/1"}"""),
            ],
            [$"{Ca}/order/1/finalize"] =
            [
                payload =>
                {
                    csr = Base64Url.DecodeFromChars(JsonDocument.Parse(payload).RootElement.GetProperty("csr").GetString());
                    return Json(HttpStatusCode.OK, """{"status":"processing"}""", retryAfter: 1);
                },
            ],
            [$"{Ca}/cert/1"] = [_ => new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent(issued.ExportCertificatePem()) }],
        });
        using var http = new HttpClient(ca);
        using var client = new AcmeClient(http, new Uri($"{Ca}/dir"), key);
        var order = new CertificateOrder(client, ChallengeTypes.Http01, http01, new TlsAlpn01Responder(), time);

        var obtaining = order.ObtainAsync("shop.test", CancellationToken.None);
        // The waits: a second after starting the challenge (no Retry-After), then as the CA asks.
        foreach (var seconds in new[] { 1, 3, 1 })
        {
            Assert.Equal(TimeSpan.FromSeconds(seconds), await time.NextTimerAsync(obtaining));
            time.Advance(TimeSpan.FromSeconds(seconds));
        }

        var (chain, privateKey) = await obtaining.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(keyAuthorization, servedWhileValidating);
        Assert.Null(Fetch("/.well-known/acme-challenge/tok-1")); // withdrawn once validated
        var request = CertificateRequest.LoadSigningRequest(csr!, System.Security.Cryptography.HashAlgorithmName.SHA256, CertificateRequestLoadOptions.UnsafeLoadCertificateExtensions);
        Assert.Equal(["shop.test"], request.CertificateExtensions.OfType<X509SubjectAlternativeNameExtension>().Single().EnumerateDnsNames());
        Assert.Equal(issued.ExportCertificatePem(), chain);
        Assert.Contains("PRIVATE KEY", privateKey, StringComparison.Ordinal);
    }

    /// <summary>What the HTTP-01 responder answers for a path right now; null when it lets the request through.</summary>
    string? Fetch(string path)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = "GET";
        context.Request.Path = path;
        var body = new MemoryStream();
        context.Response.Body = body;
        var passedOn = false;
        http01.Wrap(_ => { passedOn = true; return Task.CompletedTask; })(context).GetAwaiter().GetResult();
        return passedOn ? null : Encoding.ASCII.GetString(body.ToArray());
    }

    static HttpResponseMessage Json(HttpStatusCode status, string body, string? location = null, int? retryAfter = null)
    {
        var response = new HttpResponseMessage(status) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        if (location is not null) response.Headers.Location = new Uri(location);
        if (retryAfter is { } seconds) response.Headers.RetryAfter = new System.Net.Http.Headers.RetryConditionHeaderValue(TimeSpan.FromSeconds(seconds));
        return response;
    }

    /// <summary>A fake clock that tells the test each wait the code starts, so it advances only once the wait is set.</summary>
    sealed class TimerWatchingTime() : FakeTimeProvider(DateTimeOffset.UtcNow)
    {
        readonly Channel<TimeSpan> timers = Channel.CreateUnbounded<TimeSpan>();

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            var timer = base.CreateTimer(callback, state, dueTime, period);
            timers.Writer.TryWrite(dueTime);
            return timer;
        }

        /// <summary>The next wait started, within 10 seconds; what went wrong instead if <paramref name="work"/> fails first.</summary>
        public async Task<TimeSpan> NextTimerAsync(Task work)
        {
            var next = timers.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
            if (await Task.WhenAny(next, work) == work)
            {
                await work;
            }

            return await next;
        }
    }

    /// <summary>An ACME server in memory answering each URL's POSTs in the scripted order, with a fresh nonce every time.</summary>
    sealed class ScriptedCa(Dictionary<string, List<Func<string, HttpResponseMessage>>> script) : HttpMessageHandler
    {
        int nonces;

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            HttpResponseMessage response;
            if (request.Method == HttpMethod.Get)
            {
                response = new HttpResponseMessage(HttpStatusCode.OK)
                {
                    Content = new StringContent($$"""{"newNonce":"{{Ca}}/nonce","newAccount":"{{Ca}}/new-acct","newOrder":"{{Ca}}/new-order"}"""),
                };
            }
            else if (request.Method == HttpMethod.Head)
            {
                response = new HttpResponseMessage(HttpStatusCode.OK);
            }
            else
            {
                var jws = JsonDocument.Parse(await request.Content!.ReadAsByteArrayAsync(cancellationToken)).RootElement;
                var payload = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(jws.GetProperty("payload").GetString()));
                var answers = script[request.RequestUri!.AbsoluteUri];
                var answer = answers[0];
                answers.RemoveAt(0);
                response = answer(payload);
            }

            response.Headers.Add("Replay-Nonce", $"nonce-{Interlocked.Increment(ref nonces)}");
            return response;
        }
    }
}

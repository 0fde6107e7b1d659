using System.Net;
using System.Text.Json;

namespace Tapster.Tests.Functional;

[Collection(FunctionalGroup.Name)]
public sealed class RateLimitTests : IDisposable
{
    readonly string dir = Directory.CreateTempSubdirectory("tapster-rate-ft-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    static async Task<HttpResponseMessage> GetAsync(TapsterServer server, string path, string? apiKey = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (apiKey is not null) request.Headers.Add("X-API-Key", apiKey);
        return await server.Client.SendAsync(request);
    }

    [Fact]
    public async Task Past_its_burst_a_client_gets_429_with_Retry_After_and_no_worker_sees_the_request()
    {
        await using var server = await TapsterServer.StartAsync("probe:app", "--workers", "1", "--rate-limit", "/environ=2/m");
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 3; i++)
        {
            using var r = await GetAsync(server, "/environ");
            statuses.Add(r.StatusCode);
            if (r.StatusCode == HttpStatusCode.TooManyRequests)
            {
                Assert.Equal("Too Many Requests\n", await r.Content.ReadAsStringAsync());
                Assert.InRange(r.Headers.RetryAfter!.Delta!.Value, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(31));
                Assert.Equal("nosniff", r.Headers.GetValues("X-Content-Type-Options").Single());
            }
        }

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests], statuses);
        // Other paths have no rule; the refusal has its access line without a worker, and a warning saying why.
        using var other = await GetAsync(server, "/");
        Assert.Equal(HttpStatusCode.OK, other.StatusCode);
        var refused = await server.WaitForEventAsync(e => e.Str("event") == "access" && e.GetProperty("status").GetInt32() == 429, Http.Short);
        Assert.Equal(JsonValueKind.Null, refused.GetProperty("worker_pid").ValueKind);
        var why = await server.WaitForEventAsync(e => e.Str("event") == "request.rate_limited", Http.Short);
        Assert.Contains("2/m on /environ", why.Str("message"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_encoded_or_doubled_slash_does_not_slip_past_a_rule()
    {
        await using var server = await TapsterServer.StartAsync("probe:app", "--workers", "1", "--rate-limit", "/environ=1/m");
        var statuses = new List<int>();
        foreach (var path in new[] { "/environ", "//environ", "/%2Fenviron" })
        {
            using var raw = await RawHttp.ConnectAsync(server.Port);
            await raw.SendAsync($"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
            Assert.True(await raw.ReadUntilClosedAsync(Http.Short), raw.Text);
            statuses.Add(int.Parse(raw.Text.AsSpan(9, 3), System.Globalization.CultureInfo.InvariantCulture));
        }

        Assert.Equal([200, 429, 429], statuses);
    }

    [Fact]
    public async Task Keyed_by_a_header_each_API_key_has_its_own_bucket()
    {
        var config = Path.Combine(dir, "tapster.toml");
        File.WriteAllText(config, """
            [limits]
            rate = [{ prefix = "/environ", rate = "1/h", by = "header:X-API-Key" }]
            """);
        await using var server = await TapsterServer.StartAsync("probe:app", "--workers", "1", "--config", config);

        Assert.Equal(HttpStatusCode.OK, (await GetAsync(server, "/environ", "alice")).StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, (await GetAsync(server, "/environ", "alice")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(server, "/environ", "bob")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(server, "/environ")).StatusCode);
    }

    [Fact]
    public async Task Behind_a_trusted_proxy_each_forwarded_client_has_its_own_bucket()
    {
        await using var server = await TapsterServer.StartAsync("probe:app", "--workers", "1", "--rate-limit", "/environ=1/h", "--forwarded-allow-ips", "127.0.0.1");

        async Task<HttpStatusCode> AsClient(string address)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/environ");
            request.Headers.Add("X-Forwarded-For", address);
            using var r = await server.Client.SendAsync(request);
            return r.StatusCode;
        }

        Assert.Equal(HttpStatusCode.OK, await AsClient("198.51.100.1"));
        Assert.Equal(HttpStatusCode.TooManyRequests, await AsClient("198.51.100.1"));
        Assert.Equal(HttpStatusCode.OK, await AsClient("198.51.100.2"));
    }
}

using System.Net;

namespace Tapster.Tests.Functional;

/// <summary>
/// Requests whose framing two HTTP parsers could read differently (request smuggling): each is refused
/// before any worker sees it, or read in the one safe way, and the server keeps answering.
/// </summary>
[Collection(FunctionalGroup.Name)]
public class SmugglingTests(SmugglingTests.LoggingProbeServer shared) : IClassFixture<SmugglingTests.LoggingProbeServer>
{
    const string Post = "POST /echo HTTP/1.1\r\nHost: x\r\n";
    const string Chunked = "Transfer-Encoding: chunked\r\n";
    const string Smuggled = "GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n";

    /// <summary>Attempts, by name, and Tapster's answer: the status, and the start of its body when Tapster (not Kestrel's parser) refused it.</summary>
    static readonly Dictionary<string, (string Request, int Status, string? Body)> Refused = new()
    {
        ["CL+TE"] = ($"{Post}Content-Length: 4\r\n{Chunked}\r\n5\r\nhello\r\n0\r\n\r\n", 400, "Bad Request: both Content-Length and Transfer-Encoding"),
        ["CL+TE with a request hidden after the chunked end"] = ($"{Post}Content-Length: 40\r\n{Chunked}\r\n0\r\n\r\n{Smuggled}", 400, "Bad Request: both Content-Length and Transfer-Encoding"),
        ["TE+CL with a request hidden in the Content-Length"] = ($"{Post}{Chunked}Content-Length: 6\r\n\r\n0\r\n\r\n{Smuggled}", 400, "Bad Request: both"),
        ["two different Content-Lengths"] = ($"{Post}Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!", 400, null),
        ["two equal Content-Lengths"] = ($"{Post}Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello", 400, null),
        ["a Content-Length list 5, 5"] = ($"{Post}Content-Length: 5, 5\r\n\r\nhello", 400, null),
        ["a negative Content-Length"] = ($"{Post}Content-Length: -1\r\n\r\nhello", 400, null),
        ["a Content-Length with a plus sign"] = ($"{Post}Content-Length: +5\r\n\r\nhello", 400, null),
        ["a Content-Length of minus zero"] = ($"{Post}Content-Length: -0\r\n\r\nhello", 400, null),
        ["a Content-Length of 21 digits, leading zeros"] = ($"{Post}Content-Length: {new string('0', 20)}5\r\n\r\nhello", 400, null),
        ["a Content-Length past 64 bits"] = ($"{Post}Content-Length: 99999999999999999999999\r\n\r\nhello", 400, null),
        ["a Content-Length in Arabic-Indic digits (UTF-8 of U+0665)"] = ($"{Post}Content-Length: \u00d9\u00a5\r\n\r\nhello", 400, null),
        ["a hexadecimal Content-Length"] = ($"{Post}Content-Length: 0x5\r\n\r\nhello", 400, null),
        ["TE chunked, identity"] = ($"{Post}Transfer-Encoding: chunked, identity\r\n\r\n5\r\nhello\r\n0\r\n\r\n", 400, null),
        ["TE xchunked"] = ($"{Post}Transfer-Encoding: xchunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", 400, null),
        ["TE gzip, chunked"] = ($"{Post}Transfer-Encoding: gzip, chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", 501, "Not Implemented: only the chunked transfer coding"),
        ["TE chunked twice"] = ($"{Post}{Chunked}{Chunked}\r\n5\r\nhello\r\n0\r\n\r\n", 400, "Bad Request: chunked more than once"),
        ["TE with a space before the colon"] = ($"{Post}Transfer-Encoding : chunked\r\nContent-Length: 5\r\n\r\nhello", 400, null),
        ["TE in an HTTP/1.0 request"] = ($"POST /echo HTTP/1.0\r\nHost: x\r\n{Chunked}\r\n5\r\nhello\r\n0\r\n\r\n", 400, "Bad Request: Transfer-Encoding in an HTTP/1.0 request"),
        ["a chunk size past 64 bits"] = ($"{Post}{Chunked}\r\n10000000000000005\r\nhello\r\n0\r\n\r\n", 400, "Bad Request: malformed request body"),
        ["a chunk size with 0x"] = ($"{Post}{Chunked}\r\n0x5\r\nhello\r\n0\r\n\r\n", 400, "Bad Request: malformed request body"),
        ["a negative chunk size"] = ($"{Post}{Chunked}\r\n-5\r\nhello\r\n0\r\n\r\n", 400, "Bad Request: malformed request body"),
        ["a chunk size with a space"] = ($"{Post}{Chunked}\r\n5 \r\nhello\r\n0\r\n\r\n", 400, "Bad Request: malformed request body"),
        ["a chunk without its CRLF"] = ($"{Post}{Chunked}\r\n5\r\nhelloXX0\r\n\r\n", 400, "Bad Request: malformed request body"),
        ["chunk lines ended by bare LF"] = ($"{Post}{Chunked}\r\n5\nhello\n0\n\n", 400, "Bad Request: malformed request body"),
        ["a chunk extension ended by bare LF"] = ($"{Post}{Chunked}\r\n5;ext\n{Smuggled}0\r\n\r\n", 400, "Bad Request: malformed request body"),
        ["a chunk-size line of 5000 zeros"] = ($"{Post}{Chunked}\r\n{new string('0', 5000)}5\r\nhello\r\n0\r\n\r\n", 400, "Bad Request: malformed request body"),
        ["an obs-fold continuation line"] = ($"{Post}X-Folded: a\r\n b\r\nContent-Length: 5\r\n\r\nhello", 400, null),
        ["TE folded onto a continuation line"] = ($"{Post}Transfer-Encoding:\r\n chunked\r\nContent-Length: 5\r\n\r\nhello", 400, null),
        ["a header name with a space before the colon"] = ("GET / HTTP/1.1\r\nHost: x\r\nX-Thing : 1\r\n\r\n", 400, null),
        ["header lines ended by bare LF"] = ("GET / HTTP/1.1\nHost: x\n\n", 400, null),
        ["a bare CR inside a header"] = ("GET / HTTP/1.1\r\nHost: x\r\nX-A: 1\rX-B: 2\r\n\r\n", 400, null),
        ["a NUL inside a header"] = ("GET / HTTP/1.1\r\nHost: x\r\nX-A: a\0b\r\n\r\n", 400, null),
        ["a Content-Length wrapped in vertical tab and form feed"] = ($"{Post}Content-Length: \v5\f\r\n\r\nhello", 400, null),
        ["a NUL in a chunked trailer"] = ($"{Post}{Chunked}\r\n5\r\nhello\r\n0\r\nX-T: 1\u00002\r\n\r\n", 400, "Bad Request: malformed request body"),
        ["an absolute-form target with another Host"] = ("GET http://other.example/ HTTP/1.1\r\nHost: x\r\n\r\n", 400, null),
        ["two Host headers"] = ("GET / HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n", 400, null),
        ["no Host header"] = ("GET / HTTP/1.1\r\n\r\n", 400, null),
        ["a control character in the path"] = ("GET /a\u0001b HTTP/1.1\r\nHost: x\r\n\r\n", 400, "Bad Request: a control character, space or non-ASCII byte in the request target"),
        ["DEL in the query"] = ("GET /?a\u007fb HTTP/1.1\r\nHost: x\r\n\r\n", 400, "Bad Request: a control character, space or non-ASCII byte in the request target"),
        ["a non-ASCII byte in the path"] = ("GET /a\u00ffb HTTP/1.1\r\nHost: x\r\n\r\n", 400, null),
        ["a CONNECT tunnel to a host"] = ("CONNECT a.test:443 HTTP/1.1\r\nHost: a.test:443\r\n\r\n", 501, "Not Implemented: CONNECT tunnels are not served"),
        ["a CONNECT with a path"] = ("CONNECT /echo HTTP/1.1\r\nHost: a.test\r\n\r\n", 501, "Not Implemented: CONNECT tunnels are not served"),
        ["a request pipelined after a refused one"] = ($"GET / HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n{Smuggled}", 400, null),
    };

    /// <summary>Unusual but unambiguous framings: the app gets exactly the 5-byte body "hello".</summary>
    static readonly Dictionary<string, string> Normalized = new()
    {
        ["TE CHUNKED in capitals"] = $"{Post}Transfer-Encoding: CHUNKED\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        ["a chunk extension"] = $"{Post}{Chunked}\r\n5;name=value\r\nhello\r\n0\r\n\r\n",
        ["a 20 KB chunk extension"] = $"{Post}{Chunked}\r\n5;{new string('a', 20_000)}\r\nhello\r\n0\r\n\r\n",
        ["a trailer field"] = $"{Post}{Chunked}\r\n5\r\nhello\r\n0\r\nX-Trailer: 1\r\n\r\n",
        ["a Content-Length between spaces and tabs"] = $"{Post}Content-Length: \t 5 \t\r\n\r\nhello",
        ["TE chunked with an empty list element"] = $"{Post}Transfer-Encoding: chunked, \r\n\r\n5\r\nhello\r\n0\r\n\r\n",
    };

    public static TheoryData<string> RefusedNames => [.. Refused.Keys];

    public static TheoryData<string> NormalizedNames => [.. Normalized.Keys];

    TapsterServer Server => shared.Server;

    [Theory]
    [MemberData(nameof(RefusedNames))]
    public async Task A_smuggling_attempt_is_refused_and_no_worker_sees_it(string attempt)
    {
        var (request, status, body) = Refused[attempt];
        var before = shared.AppRequests();
        using (var raw = await RawHttp.ConnectAsync(Server.Port))
        {
            await raw.SendAsync(request);
            Assert.True(await raw.ReadUntilClosedAsync(Http.Short), $"the connection stayed open after: {raw.Text}");
            Assert.StartsWith($"HTTP/1.1 {status} ", raw.Text, StringComparison.Ordinal);
            Assert.Equal(1, raw.StatusLineCount);
            if (body is not null)
            {
                Assert.StartsWith(body, raw.Text[(raw.Text.IndexOf("\r\n\r\n", StringComparison.Ordinal) + 4)..], StringComparison.Ordinal);
            }
        }

        await AssertServerStillAnswersAsync();
        Assert.Equal(["GET /health 0"], shared.AppRequests()[before.Length..]);
    }

    [Theory]
    [MemberData(nameof(NormalizedNames))]
    public async Task An_unusual_but_unambiguous_framing_reaches_the_app_with_the_right_body(string framing)
    {
        var before = shared.AppRequests();
        using var raw = await RawHttp.ConnectAsync(Server.Port);
        await raw.SendAsync(Normalized[framing]);
        Assert.True(await raw.ReadUntilAsync(t => t.Contains("\"sha256\"", StringComparison.Ordinal), Http.Short), raw.Text);
        Assert.StartsWith("HTTP/1.1 200 ", raw.Text, StringComparison.Ordinal);
        Assert.Equal(["POST /echo 5"], shared.AppRequests()[before.Length..]);
    }

    async Task AssertServerStillAnswersAsync()
    {
        using var response = await Server.Client.GetAsync("/health");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Ambiguous_framing_is_refused_on_static_and_rate_limited_paths_too()
    {
        var site = Directory.CreateTempSubdirectory("tapster-smuggling-static-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(site, "a.txt"), "static");
            await using var server = await TapsterServer.StartAsync("probe:app", "--workers", "1", "--static", $"/static={site}", "--rate-limit", "/limited=100/s");
            foreach (var path in new[] { "/static/a.txt", "/limited" })
            {
                using var raw = await RawHttp.ConnectAsync(server.Port);
                await raw.SendAsync($"GET {path} HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n{Chunked}\r\n0\r\n\r\n{Smuggled}");
                Assert.True(await raw.ReadUntilClosedAsync(Http.Short), $"the connection stayed open after: {raw.Text}");
                Assert.StartsWith("HTTP/1.1 400 ", raw.Text, StringComparison.Ordinal);
                Assert.Contains("Bad Request: both Content-Length and Transfer-Encoding", raw.Text, StringComparison.Ordinal);
                Assert.Equal(1, raw.StatusLineCount);
            }

            var why = await server.WaitForEventAsync(e => e.Str("event") == "request.rejected", Http.Short);
            Assert.Contains("both Content-Length and Transfer-Encoding", why.Str("message"), StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(site, recursive: true);
        }
    }

    /// <summary>The probe app, logging every request it gets to requests.log in its state directory.</summary>
    public sealed class LoggingProbeServer() : ServerFixture("probe:app", new Dictionary<string, string> { ["PROBE_REQUEST_LOG"] = "1" }, "--workers", "1")
    {
        /// <summary>"METHOD PATH BODY-BYTES" for every request the app got so far.</summary>
        public string[] AppRequests()
        {
            var log = Path.Combine(Server.StateDir, "requests.log");
            return File.Exists(log) ? File.ReadAllLines(log) : [];
        }
    }
}

using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using Tapster.Tests.Fuzzing;

namespace Tapster.Tests.Functional;

/// <summary>
/// Mutated requests, from valid HTTP/1.1, HTTP/1.0 and HTTP/2 ones, sent to the real server: each gets
/// an HTTP answer or a closed connection, never an error from inside (a dead worker, a gateway timeout,
/// a 500 that no app exception explains), a traceback or a .NET stack, and the server serves on. The seed is fixed so that a failure
/// is a reproducible case; HTTP_FUZZ_SEED and HTTP_FUZZ_CASES in the environment of `dotnet test` explore further by hand
/// (not TAPSTER_: the server refuses variables of that prefix it does not know).
/// </summary>
[Collection(FunctionalGroup.Name)]
public partial class HttpFuzzTests
{
    private const int DefaultSeed = 20261206;
    private const int DefaultCases = 600;

    /// <summary>How long a case may stay unanswered: a mutation that left the request incomplete (a
    /// Content-Length past the bytes sent) is waited on by the server, rightly.</summary>
    private static readonly TimeSpan CaseTimeout = TimeSpan.FromSeconds(1);

    /// <summary>Sent after every HTTP/1 case: when the case's framing held, its answer closes the connection at once.</summary>
    private const string Sentinel = "GET /?fuzz-sentinel HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";

    private static readonly string[] Http1Seeds =
    [
        "GET / HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET /environ/a%2Fb?q=1&r=%ff HTTP/1.1\r\nHost: x\r\nUser-Agent: fuzz\r\nAccept: */*\r\nCookie: a=b; c=d\r\nX-Request-ID: abc-123\r\n\r\n",
        "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\nContent-Length: 11\r\n\r\nhello world",
        "POST /echo?via=flask HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 13\r\n\r\na=1&b=%20&c=3",
        "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
        "POST /lines HTTP/1.1\r\nHost: x\r\nContent-Length: 12\r\nExpect: 100-continue\r\n\r\nline1\nline2\n",
        "HEAD /text HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip, br;q=0.5\r\n\r\n",
        "GET /text HTTP/1.1\r\nHost: x\r\nAccept-Encoding: br\r\nRange: bytes=0-3\r\nIf-None-Match: \"x\"\r\n\r\n",
        "OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n",
        "OPTIONS /echo HTTP/1.1\r\nHost: x\r\nOrigin: https://a.test\r\nAccess-Control-Request-Method: POST\r\n\r\n",
        "GET /stream?n=2&delay=0 HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 10.0.0.1\r\nForwarded: for=1.2.3.4;proto=https\r\n\r\n",
        "GET / HTTP/1.0\r\n\r\n",
    ];

    /// <summary>Lines a mutation may add to a request's head: the headers that change how it is framed or routed.</summary>
    private static readonly string[] HeaderLines =
    [
        "Transfer-Encoding: chunked", "Content-Length: 3", "Content-Length: 0", "Expect: 100-continue", "Connection: upgrade\r\nUpgrade: h2c",
        "Host: y", "Host:", "Connection: close", "Connection: keep-alive", "Content-Type: multipart/form-data; boundary=",
        "Content-Encoding: gzip", "Range: bytes=-0", "X-Request-ID: ../../etc/passwd", "Upgrade: websocket", "TE: trailers",
        "Proxy-Connection: keep-alive", "Cookie: " + new string('a', 9000), "X-Long: " + new string('b', 40_000),
    ];

    private static readonly string[] Numbers =
    [
        "0", "-1", "1", "00000005", "4294967296", "18446744073709551616", "99999999999999999999", "1e3", "0x10", " 5", "5 ", "+5", "\u0665",
    ];

    private static readonly byte[] Interesting = "\0\r\n \t:;,./%\\\"'?#=&\u007f0129aZ"u8.ToArray().Concat(new byte[] { 0x80, 0xc3, 0xff, 0x0b, 0x0c }).ToArray();

    /// <summary>HTTP/2 with prior knowledge: the preface, an empty SETTINGS, and HEADERS for GET / on stream 1 (HPACK, static table).</summary>
    private static readonly byte[] Http2Seed =
    [
        .. "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8,
        0, 0, 0, 4, 0, 0, 0, 0, 0,
        0, 0, 7, 1, 5, 0, 0, 0, 1, 0x82, 0x86, 0x84, 0x41, 0x01, (byte)'x', 0x90,
    ];

    [Fact]
    public async Task Mutated_requests_get_an_answer_or_a_closed_connection_and_never_an_error_from_inside()
    {
        var seed = int.TryParse(Environment.GetEnvironmentVariable("HTTP_FUZZ_SEED"), CultureInfo.InvariantCulture, out var s) ? s : DefaultSeed;
        var count = int.TryParse(Environment.GetEnvironmentVariable("HTTP_FUZZ_CASES"), CultureInfo.InvariantCulture, out var n) ? n : DefaultCases;
        var random = new Random(seed);
        var cases = Enumerable.Range(0, count).Select(_ => MakeCase(random)).ToList();

        await using var server = await TapsterServer.StartAsync("probe:app", "--workers", "2", "--threads", "4");
        var failures = new ConcurrentBag<string>();
        var appFailures = new ConcurrentBag<string>(); // request ids of 500s, each to be explained by the app's own exception
        await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, _) =>
        {
            var (bytes, isHttp2) = cases[i];
            var answer = await ExchangeAsync(server.Port, bytes, isHttp2);
            if (Judge(answer, isHttp2, appFailures) is { } problem)
            {
                failures.Add($"case {i} (seed {seed}): {problem}\n  sent: {Escape(bytes)}\n  got: {Escape(Encoding.Latin1.GetBytes(answer))}");
            }
        });

        foreach (var requestId in appFailures)
        {
            // A 500 is right when the app raised (bad input it did not expect): its traceback is logged under the request's id.
            await server.WaitForEventAsync(e => e.Str("event") == "app.log" && e.Str("request_id") == requestId && e.Str("level") == "error", Http.Short);
        }

        Assert.True(failures.IsEmpty, string.Join("\n", failures.Take(5)) + $"\n({failures.Count} failing cases)");
        using (var r = await server.Client.GetAsync("/"))
        {
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        }

        // The app's own output (its tracebacks of the 500s above) is the app's business, not trouble.
        var trouble = server.Events().Where(e => e.Str("event") is not ("app.log" or "app.output")
            && (e.Str("level") is "error" or "critical" || e.Str("event") is "worker.crashed" or "worker.protocol_violation")).ToList();
        Assert.True(trouble.Count == 0, $"the server logged trouble:\n{string.Join('\n', trouble)}");
    }

    private static (byte[] Bytes, bool IsHttp2) MakeCase(Random random)
    {
        var isHttp2 = random.Next(8) == 0;
        var bytes = isHttp2 ? [.. Http2Seed] : Encoding.Latin1.GetBytes(Http1Seeds[random.Next(Http1Seeds.Length)]);
        var mutations = 1 + random.Next(3);
        for (var m = 0; m < mutations; m++)
        {
            bytes = Mutate(random, bytes);
        }

        return (bytes, isHttp2);
    }

    private static byte[] Mutate(Random random, byte[] bytes)
    {
        var kind = random.Next(ByteMutator.Kinds + 2);
        if (kind < ByteMutator.Kinds)
        {
            return ByteMutator.Mutate(random, bytes, kind, Interesting);
        }

        var text = Encoding.Latin1.GetString(bytes);
        if (kind == ByteMutator.Kinds)
        {
            // A number replaced: a length, a chunk size, a version, a port.
            var digits = Digits().Matches(text);
            if (digits.Count == 0)
            {
                return bytes;
            }

            var d = digits[random.Next(digits.Count)];
            return Encoding.Latin1.GetBytes(string.Concat(text.AsSpan(0, d.Index), Numbers[random.Next(Numbers.Length)], text.AsSpan(d.Index + d.Length)));
        }

        // A header line added after the request line.
        var firstLine = text.IndexOf("\r\n", StringComparison.Ordinal);
        return firstLine < 0 ? bytes : Encoding.Latin1.GetBytes(text.Insert(firstLine + 2, HeaderLines[random.Next(HeaderLines.Length)] + "\r\n"));
    }

    /// <summary>Sends the case (and the sentinel after an HTTP/1 one) and reads until the server closes or the case times out.</summary>
    private static async Task<string> ExchangeAsync(int port, byte[] bytes, bool isHttp2)
    {
        using var raw = await RawHttp.ConnectAsync(port);
        try
        {
            await raw.SendAsync(isHttp2 ? bytes : [.. bytes, .. Encoding.Latin1.GetBytes(Sentinel)]);
        }
        catch (Exception e) when (e is IOException or SocketException)
        {
            // The server refused the head and closed while the rest was on its way: what came back still counts.
        }

        await raw.ReadUntilClosedAsync(CaseTimeout);
        return raw.Text;
    }

    /// <summary>Null when the answer is acceptable, else what is wrong with it; the request ids of 500s go to <paramref name="appFailures"/>.</summary>
    private static string? Judge(string answer, bool isHttp2, ConcurrentBag<string> appFailures)
    {
        foreach (var leak in new[] { "Traceback", "Exception", "   at ", "Tapster.", "secret" })
        {
            if (answer.Contains(leak, StringComparison.Ordinal))
            {
                return $"the answer contains '{leak}'";
            }
        }

        if (isHttp2)
        {
            return null; // binary frames; the leak check above and the server's log are what count
        }

        foreach (Match status in StatusLine().Matches(answer))
        {
            var code = int.Parse(status.Groups[1].Value, CultureInfo.InvariantCulture);
            if (code is 502 or 504)
            {
                return $"status {code}: a worker failed, not the request";
            }

            if (code == 500)
            {
                if (RequestId().Match(answer, status.Index) is not { Success: true } id)
                {
                    return "a 500 without X-Request-ID";
                }

                appFailures.Add(id.Groups[1].Value);
            }
        }

        return null;
    }

    private static string Escape(byte[] bytes)
    {
        var shown = bytes.Length > 600 ? bytes[..600] : bytes;
        var text = new StringBuilder();
        foreach (var b in shown)
        {
            text.Append(b is >= 0x20 and < 0x7f and not (byte)'\\' ? ((char)b).ToString() : $"\\x{b:x2}");
        }

        return bytes.Length > shown.Length ? $"{text}... ({bytes.Length} bytes)" : text.ToString();
    }

    [GeneratedRegex(@"X-Request-ID: ([!-~]+)\r\n")]
    private static partial Regex RequestId();

    [GeneratedRegex("[0-9]+")]
    private static partial Regex Digits();

    [GeneratedRegex(@"HTTP/1\.[01] ([1-5][0-9][0-9]) ")]
    private static partial Regex StatusLine();
}

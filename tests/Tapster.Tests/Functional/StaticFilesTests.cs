using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace Tapster.Tests.Functional;

/// <summary>
/// <c>--static /static=DIR</c> against the real binary: Tapster answers from the directory itself, with
/// validators, ranges, precompressed files and caching headers, and refuses every way out of it.
/// </summary>
[Collection(FunctionalGroup.Name)]
public sealed class StaticFilesTests : IAsyncLifetime
{
    const string Css = "body { color: #333; }\n";
    readonly string root = Directory.CreateTempSubdirectory("tapster-static-ft-").FullName;
    TapsterServer? server;

    TapsterServer Server => server!;

    public async Task InitializeAsync()
    {
        File.WriteAllText(Path.Combine(root, "app.css"), Css);
        File.WriteAllText(Path.Combine(root, "app.3f2a91c0.js"), "console.log('plain');\n");
        File.WriteAllText(Path.Combine(root, "app.3f2a91c0.js.br"), "BROTLI-BYTES");
        File.WriteAllText(Path.Combine(root, "app.3f2a91c0.js.gz"), "GZIP-BYTES");
        File.WriteAllText(Path.Combine(root, ".env"), "SECRET_KEY=hunter2\n");
        File.WriteAllBytes(Path.Combine(root, "ten.bin"), Enumerable.Range(0, 1000).Select(i => (byte)i).ToArray());
        Directory.CreateDirectory(Path.Combine(root, "docs"));
        File.WriteAllText(Path.Combine(root, "docs", "index.html"), "<h1>docs</h1>\n");
        Directory.CreateDirectory(Path.Combine(root, "empty"));
        File.CreateSymbolicLink(Path.Combine(root, "passwd"), "/etc/passwd");
        server = await TapsterServer.StartAsync("probe:app", "--workers", "1", "--static", $"/static={root}");
    }

    public async Task DisposeAsync()
    {
        if (server is not null) await server.DisposeAsync();
        Directory.Delete(root, recursive: true);
    }

    async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, Action<HttpRequestHeaders>? headers = null)
    {
        using var request = new HttpRequestMessage(method, path);
        headers?.Invoke(request.Headers);
        return await Server.Client.SendAsync(request);
    }

    [Fact]
    public async Task A_file_is_served_with_its_type_validators_and_caching_headers_without_a_worker()
    {
        using var r = await SendAsync(HttpMethod.Get, "/static/app.css");
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.Equal(Css, await r.Content.ReadAsStringAsync());
        Assert.Equal("text/css; charset=utf-8", r.Content.Headers.ContentType!.ToString());
        Assert.Equal("public, max-age=3600", r.Headers.CacheControl!.ToString());
        Assert.NotNull(r.Headers.ETag);
        Assert.NotNull(r.Content.Headers.LastModified);
        Assert.Equal("bytes", Assert.Single(r.Headers.AcceptRanges));
        var id = Assert.Single(r.Headers.GetValues("X-Request-ID"));
        var access = await Server.WaitForEventAsync(e => e.Str("event") == "access" && e.Str("request_id") == id, Http.Short);
        Assert.Equal(System.Text.Json.JsonValueKind.Null, access.GetProperty("worker_pid").ValueKind);
        Assert.Equal(200, access.GetProperty("status").GetInt32());
    }

    [Fact]
    public async Task Static_responses_and_refusals_carry_the_security_headers_too()
    {
        foreach (var path in new[] { "/static/app.css", "/static/missing.css" })
        {
            using var r = await SendAsync(HttpMethod.Get, path);
            Assert.Equal(["nosniff"], r.Headers.GetValues("X-Content-Type-Options"));
            Assert.Equal(["SAMEORIGIN"], r.Headers.GetValues("X-Frame-Options"));
        }
    }

    [Fact]
    public async Task If_none_match_with_the_etag_gives_304()
    {
        using var first = await SendAsync(HttpMethod.Get, "/static/app.css");
        using var again = await SendAsync(HttpMethod.Get, "/static/app.css", h => h.IfNoneMatch.Add(first.Headers.ETag!));
        Assert.Equal(HttpStatusCode.NotModified, again.StatusCode);
        Assert.Empty(await again.Content.ReadAsByteArrayAsync());
        Assert.Equal(first.Headers.ETag, again.Headers.ETag);
    }

    [Fact]
    public async Task If_modified_since_the_last_modified_date_gives_304_and_an_older_date_the_file()
    {
        using var first = await SendAsync(HttpMethod.Get, "/static/app.css");
        var lastModified = first.Content.Headers.LastModified!.Value;
        using var same = await SendAsync(HttpMethod.Get, "/static/app.css", h => h.IfModifiedSince = lastModified);
        Assert.Equal(HttpStatusCode.NotModified, same.StatusCode);
        using var older = await SendAsync(HttpMethod.Get, "/static/app.css", h => h.IfModifiedSince = lastModified.AddHours(-1));
        Assert.Equal(HttpStatusCode.OK, older.StatusCode);
    }

    [Fact]
    public async Task A_single_range_gives_206_and_a_range_past_the_end_416()
    {
        using var partial = await SendAsync(HttpMethod.Get, "/static/ten.bin", h => h.Range = new RangeHeaderValue(10, 19));
        Assert.Equal(HttpStatusCode.PartialContent, partial.StatusCode);
        Assert.Equal("bytes 10-19/1000", partial.Content.Headers.ContentRange!.ToString());
        Assert.Equal(Enumerable.Range(10, 10).Select(i => (byte)i), await partial.Content.ReadAsByteArrayAsync());

        using var suffix = await SendAsync(HttpMethod.Get, "/static/ten.bin", h => h.Range = new RangeHeaderValue(null, 500));
        Assert.Equal("bytes 500-999/1000", suffix.Content.Headers.ContentRange!.ToString());

        using var past = await SendAsync(HttpMethod.Get, "/static/ten.bin", h => h.Range = new RangeHeaderValue(5000, null));
        Assert.Equal(HttpStatusCode.RequestedRangeNotSatisfiable, past.StatusCode);
        Assert.Equal("bytes */1000", past.Content.Headers.ContentRange!.ToString());

        using var several = await SendAsync(HttpMethod.Get, "/static/ten.bin", h =>
        {
            var range = new RangeHeaderValue();
            range.Ranges.Add(new RangeItemHeaderValue(0, 1));
            range.Ranges.Add(new RangeItemHeaderValue(5, 6));
            h.Range = range;
        });
        Assert.Equal(HttpStatusCode.OK, several.StatusCode);
        Assert.Equal(1000, (await several.Content.ReadAsByteArrayAsync()).Length);
    }

    [Fact]
    public async Task Head_gives_the_headers_of_get_and_no_body()
    {
        using var raw = await RawHttp.ConnectAsync(Server.Port);
        await raw.SendAsync("HEAD /static/app.css HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.True(await raw.ReadUntilAsync(t => t.Contains("\r\n\r\n", StringComparison.Ordinal), Http.Short), raw.Text);
        await Task.Delay(200);
        await raw.ReadUntilAsync(_ => false, TimeSpan.FromMilliseconds(200));
        Assert.StartsWith("HTTP/1.1 200 ", raw.Text, StringComparison.Ordinal);
        Assert.Contains($"Content-Length: {Css.Length}\r\n", raw.Text, StringComparison.Ordinal);
        Assert.EndsWith("\r\n\r\n", raw.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Precompressed_siblings_are_chosen_by_accept_encoding_with_their_own_etags()
    {
        async Task<(string Body, string? Encoding, string ETag)> GetAsync(string? acceptEncoding)
        {
            using var r = await SendAsync(HttpMethod.Get, "/static/app.3f2a91c0.js", h =>
            {
                if (acceptEncoding is not null) h.TryAddWithoutValidation("Accept-Encoding", acceptEncoding);
            });
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
            Assert.Contains("Accept-Encoding", r.Headers.Vary);
            Assert.Equal("text/javascript; charset=utf-8", r.Content.Headers.ContentType!.ToString());
            return (Encoding.UTF8.GetString(await r.Content.ReadAsByteArrayAsync()), r.Content.Headers.ContentEncoding.SingleOrDefault(), r.Headers.ETag!.Tag);
        }

        var brotli = await GetAsync("gzip, deflate, br");
        var gzip = await GetAsync("gzip");
        var plain = await GetAsync(null);
        Assert.Equal(("BROTLI-BYTES", "br"), (brotli.Body, brotli.Encoding));
        Assert.Equal(("GZIP-BYTES", "gzip"), (gzip.Body, gzip.Encoding));
        Assert.Equal(("console.log('plain');\n", (string?)null), (plain.Body, plain.Encoding));
        Assert.Equal(3, new[] { brotli.ETag, gzip.ETag, plain.ETag }.Distinct().Count());

        // q-values count, as for compressed app responses: the client's preferred coding wins.
        Assert.Equal("gzip", (await GetAsync("br;q=0.001, gzip;q=1")).Encoding);
        Assert.Equal("br", (await GetAsync("br, gzip")).Encoding);
        Assert.Null((await GetAsync("br;q=0, gzip;q=0")).Encoding);
    }

    [Fact]
    public async Task A_fingerprinted_name_is_cached_for_a_year_as_immutable()
    {
        using var r = await SendAsync(HttpMethod.Get, "/static/app.3f2a91c0.js");
        Assert.Equal("public, max-age=31536000, immutable", string.Join(", ", r.Headers.GetValues("Cache-Control")));
    }

    [Fact]
    public async Task A_directory_gives_its_index_html_or_404_but_never_a_listing()
    {
        using var index = await SendAsync(HttpMethod.Get, "/static/docs/");
        Assert.Equal(HttpStatusCode.OK, index.StatusCode);
        Assert.Equal("<h1>docs</h1>\n", await index.Content.ReadAsStringAsync());
        using var empty = await SendAsync(HttpMethod.Get, "/static/empty/");
        Assert.Equal(HttpStatusCode.NotFound, empty.StatusCode);
        using var top = await SendAsync(HttpMethod.Get, "/static/");
        Assert.Equal(HttpStatusCode.NotFound, top.StatusCode);
        Assert.DoesNotContain("app.css", await top.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/static/../probe.py")]
    [InlineData("/static/%2e%2e/probe.py")]
    [InlineData("/static/%2E%2E/%2E%2E/testassets/probe.py")]
    [InlineData("/static/..%2fprobe.py")]
    [InlineData("/static/..%2f..%2fetc%2fpasswd")]
    [InlineData("/static/a%00b")]
    [InlineData("/static/a%5c..%5cb")]
    [InlineData("/static/passwd")]
    [InlineData("/static/.env")]
    public async Task Every_way_out_of_the_directory_is_refused(string target)
    {
        using var raw = await RawHttp.ConnectAsync(Server.Port);
        await raw.SendAsync(RawHttp.Get(target, "Connection: close\r\n"));
        await raw.ReadUntilClosedAsync(Http.Short);
        var status = int.Parse(raw.Text.AsSpan(9, 3), provider: System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(status is 400 or 404, raw.Text);
        Assert.DoesNotContain("root:", raw.Text, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", raw.Text, StringComparison.Ordinal);
        Assert.DoesNotContain("def app(", raw.Text, StringComparison.Ordinal);
    }

    /// <summary>Pieces of request targets that have each opened a way out of a web root somewhere.</summary>
    static readonly string[] PathPieces =
    [
        "..", ".", "%2e%2e", "%2E%2e", ".%2e", "%2e.", "%252e%252e", "..%2f", "..%5c", "%2f", "%5c", "\\", "//", "%00", "%20", ";", "%3b",
        "passwd", ".env", "app.css", "docs", "empty", "probe.py", "testassets", "etc", "%c0%ae%c0%ae", "%u002e", "~", "*",
    ];

    /// <summary>Text of /etc/passwd (the symlink), of the dotfile, and of the app's source beside the directory.</summary>
    static readonly string[] OutsideMarkers = ["root:", "hunter2", "def app("];

    [Fact]
    public async Task No_target_built_from_traversal_pieces_reaches_a_file_outside_the_directory()
    {
        var random = new Random(20261206);
        var targets = Enumerable.Range(0, 1500).Select(_ =>
            "/static/" + string.Join("/", Enumerable.Range(0, 1 + random.Next(6)).Select(_ => string.Concat(Enumerable.Range(0, 1 + random.Next(2)).Select(_ => PathPieces[random.Next(PathPieces.Length)])))))
            .ToList();
        var leaks = new System.Collections.Concurrent.ConcurrentBag<string>();
        await Parallel.ForEachAsync(targets, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (target, _) =>
        {
            using var raw = await RawHttp.ConnectAsync(Server.Port);
            await raw.SendAsync(RawHttp.Get(target, "Connection: close\r\n"));
            await raw.ReadUntilClosedAsync(Http.Short);
            foreach (var secret in OutsideMarkers)
            {
                if (raw.Text.Contains(secret, StringComparison.Ordinal))
                {
                    leaks.Add($"{target} -> '{secret}'");
                }
            }
        });
        Assert.True(leaks.IsEmpty, string.Join("\n", leaks.Take(10)));
        Assert.Empty(Server.Events("worker.crashed"));
    }

    [Fact]
    public async Task An_encoded_or_doubled_slash_cannot_carry_a_static_url_past_the_mount_to_the_apps_own_static_route()
    {
        // Flask serves the same directory at /static, and routes on the decoded, slash-merged path.
        await using var flask = await TapsterServer.StartAsync("flask_static:app", new Dictionary<string, string> { ["STATIC_ROOT"] = root },
            "--workers", "1", "--static", $"/static={root}");
        foreach (var target in new[] { "/static%2F.env", "/static%2f.env", "//static/.env", "/static%2Fpasswd", "///static//.env" })
        {
            using var raw = await RawHttp.ConnectAsync(flask.Port);
            await raw.SendAsync(RawHttp.Get(target, "Connection: close\r\n"));
            await raw.ReadUntilClosedAsync(Http.Short);
            Assert.StartsWith("HTTP/1.1 404 ", raw.Text, StringComparison.Ordinal);
            Assert.DoesNotContain("hunter2", raw.Text, StringComparison.Ordinal);
            Assert.DoesNotContain("root:", raw.Text, StringComparison.Ordinal);
        }

        foreach (var target in new[] { "/static%2Fapp.css", "//static/app.css" })
        {
            using var raw = await RawHttp.ConnectAsync(flask.Port);
            await raw.SendAsync(RawHttp.Get(target, "Connection: close\r\n"));
            await raw.ReadUntilClosedAsync(Http.Short);
            Assert.StartsWith("HTTP/1.1 200 ", raw.Text, StringComparison.Ordinal);
            Assert.EndsWith(Css, raw.Text, StringComparison.Ordinal);
        }

        // Served by Tapster, not by a worker.
        var access = await flask.WaitForEventAsync(e => e.Str("event") == "access" && e.Str("path") == "//static/app.css", Http.Short);
        Assert.Equal(System.Text.Json.JsonValueKind.Null, access.GetProperty("worker_pid").ValueKind);
    }

    [Fact]
    public async Task A_pipe_in_the_directory_is_refused_at_once_instead_of_hanging_the_request()
    {
        using (var mkfifo = System.Diagnostics.Process.Start("mkfifo", Path.Combine(root, "pipe")))
        {
            await mkfifo.WaitForExitAsync();
            Assert.Equal(0, mkfifo.ExitCode);
        }

        foreach (var method in new[] { HttpMethod.Get, HttpMethod.Head })
        {
            using var r = await SendAsync(method, "/static/pipe").WaitAsync(Http.Short);
            Assert.Equal(HttpStatusCode.NotFound, r.StatusCode);
        }

        await Server.WaitForEventAsync(e => e.Str("event") == "static.refused" && e.Str("path") == "/static/pipe" && e.Str("reason")!.Contains("not a regular file", StringComparison.Ordinal), Http.Short);
    }

    [Fact]
    public async Task A_download_the_client_cuts_short_is_logged_with_its_status_and_the_bytes_sent_and_no_error()
    {
        File.WriteAllBytes(Path.Combine(root, "big.bin"), new byte[32 * 1024 * 1024]);
        Assert.True(await RawHttp.AbandonDownloadAsync(Server.Port, "/static/big.bin"));

        var access = await Server.WaitForEventAsync(e => e.Str("event") == "access" && e.Str("path") == "/static/big.bin", Http.Short);
        Assert.Equal(200, access.GetProperty("status").GetInt32());
        var bytes = access.GetProperty("bytes").GetInt64();
        Assert.True(bytes is > 0 and < 32 * 1024 * 1024, access.GetRawText());
        using var after = await SendAsync(HttpMethod.Get, "/static/app.css");
        Assert.DoesNotContain(Server.Events(), e => e.Str("event") == "ApplicationError");
    }

    [Theory]
    [InlineData("my dir", "/static/my%20dir/")]
    [InlineData("\u65e5\u672c", "/static/%E6%97%A5%E6%9C%AC/")]
    [InlineData("a\u0001b", "/static/a%01b/")]
    public async Task A_directory_redirect_carries_its_path_percent_encoded(string name, string location)
    {
        Directory.CreateDirectory(Path.Combine(root, name));
        File.WriteAllText(Path.Combine(root, name, "index.html"), "<p>index</p>\n");
        using var client = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false }) { BaseAddress = Server.BaseAddress };

        using var r = await client.GetAsync(new PathString("/static/" + name).ToUriComponent() + "?q=1");

        Assert.Equal(HttpStatusCode.MovedPermanently, r.StatusCode);
        Assert.Equal(location + "?q=1", r.Headers.Location!.OriginalString);
        using var followed = await client.GetAsync(r.Headers.Location);
        Assert.Equal("<p>index</p>\n", await followed.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_raw_backslash_path_gets_400_and_each_refusal_is_logged_with_its_reason()
    {
        using var raw = await RawHttp.ConnectAsync(Server.Port);
        await raw.SendAsync("GET /static/a\\..\\app.css HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        await raw.ReadUntilClosedAsync(Http.Short);
        Assert.StartsWith("HTTP/1.1 400 ", raw.Text, StringComparison.Ordinal);
        Assert.DoesNotContain(Css, raw.Text, StringComparison.Ordinal);

        using var hidden = await SendAsync(HttpMethod.Get, "/static/.env");
        Assert.Equal(HttpStatusCode.NotFound, hidden.StatusCode);
        Assert.Equal("Not Found\n", await hidden.Content.ReadAsStringAsync());
        using var link = await SendAsync(HttpMethod.Get, "/static/passwd");
        Assert.Equal(HttpStatusCode.NotFound, link.StatusCode);
        await Server.WaitForEventAsync(e => e.Str("event") == "static.refused" && e.Str("path") == "/static/.env" && e.Str("reason")!.Contains("dotfile", StringComparison.Ordinal), Http.Short);
        await Server.WaitForEventAsync(e => e.Str("event") == "static.refused" && e.Str("path") == "/static/passwd" && e.Str("reason")!.Contains("outside", StringComparison.Ordinal), Http.Short);
        await Server.WaitForEventAsync(e => e.Str("event") == "static.refused" && e.Str("reason")!.Contains("backslash", StringComparison.Ordinal), Http.Short);
    }

    [Fact]
    public async Task Paths_that_only_start_like_the_prefix_still_reach_the_app()
    {
        using var r = await SendAsync(HttpMethod.Get, "/staticfoo");
        var id = Assert.Single(r.Headers.GetValues("X-Request-ID"));
        var access = await Server.WaitForEventAsync(e => e.Str("event") == "access" && e.Str("request_id") == id, Http.Short);
        Assert.Equal(System.Text.Json.JsonValueKind.Number, access.GetProperty("worker_pid").ValueKind);
    }

    [Fact]
    public async Task A_static_directory_that_does_not_exist_stops_start_up_with_exit_2()
    {
        var missing = Path.Combine(root, "no-such-dir");
        var (code, _, stderr, _) = await TapsterServer.StartExpectingExitAsync("probe:app", ["--static", $"/static={missing}"]);
        Assert.Equal(2, code);
        Assert.Contains("--static", stderr, StringComparison.Ordinal);
        Assert.Contains("does not exist", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_static_directory_in_tapster_toml_that_does_not_exist_is_named_with_file_line_and_column()
    {
        var config = Path.Combine(root, "tapster.toml");
        File.WriteAllText(config, "[static]\n\"/static\" = \"nope\"\n");
        var (code, _, stderr, _) = await TapsterServer.StartExpectingExitAsync("probe:app", ["--config", config]);
        Assert.Equal(2, code);
        Assert.Contains("tapster.toml:2:13: static.\"/static\" directory 'nope' does not exist", stderr, StringComparison.Ordinal);
    }
}

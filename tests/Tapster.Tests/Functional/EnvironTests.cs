using System.Globalization;
using System.Text.Json;

namespace Tapster.Tests.Functional;

[Collection(FunctionalGroup.Name)]
public class EnvironTests(SharedProbeServer shared)
{
    TapsterServer Server => shared.Server;

    static JsonElement BodyJson(string rawResponse)
    {
        var start = rawResponse.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        Assert.True(start >= 0, rawResponse);
        var body = rawResponse[(start + 4)..];
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    async Task<(string Head, JsonElement Json)> RawGetJsonAsync(string requestText)
    {
        using var raw = await RawHttp.ConnectAsync(Server.Port);
        await raw.SendAsync(requestText);
        Assert.True(await raw.ReadUntilClosedAsync(Http.Short), "the server did not close a Connection: close request\n" + raw.Text);
        var text = raw.Text;
        Assert.StartsWith("HTTP/1.1 200", text, StringComparison.Ordinal);
        return (text[..text.IndexOf("\r\n\r\n", StringComparison.Ordinal)], BodyJson(text));
    }

    [Fact]
    public async Task The_environ_has_the_PEP_3333_keys_with_the_right_values_and_types()
    {
        var env = await Server.Client.GetJsonAsync("/environ?a=1&b=two");
        Assert.Equal("GET", env.Str("REQUEST_METHOD"));
        Assert.Equal("", env.Str("SCRIPT_NAME"));
        Assert.Equal("/environ", env.Str("PATH_INFO"));
        Assert.Equal("a=1&b=two", env.Str("QUERY_STRING"));
        Assert.False(string.IsNullOrEmpty(env.Str("SERVER_NAME")));
        Assert.Equal(Server.Port.ToString(CultureInfo.InvariantCulture), env.Str("SERVER_PORT"));
        Assert.Equal("HTTP/1.1", env.Str("SERVER_PROTOCOL"));
        Assert.Equal("[1,0]", env.GetProperty("wsgi.version").GetRawText());
        Assert.Equal("http", env.Str("wsgi.url_scheme"));
        var types = env.GetProperty("_types");
        Assert.True(types.TryGetProperty("wsgi.input", out _), "no wsgi.input");
        Assert.True(types.TryGetProperty("wsgi.errors", out _), "no wsgi.errors");
        Assert.Equal("bool", types.Str("wsgi.multithread"));
        Assert.Equal("bool", types.Str("wsgi.multiprocess"));
        Assert.Equal("bool", types.Str("wsgi.run_once"));
        Assert.False(env.GetProperty("wsgi.run_once").GetBoolean());
        Assert.True(env.GetProperty("wsgi.multithread").GetBoolean(), "4 threads per worker: multithread must be True");
        // Every CGI-style value is a native str.
        foreach (var key in new[] { "REQUEST_METHOD", "SCRIPT_NAME", "PATH_INFO", "QUERY_STRING", "SERVER_NAME", "SERVER_PORT", "SERVER_PROTOCOL" })
            Assert.Equal("str", types.Str(key));
    }

    [Fact]
    public async Task PATH_INFO_holds_the_raw_utf8_bytes_decoded_as_latin1()
    {
        var env = await Server.Client.GetJsonAsync("/environ/caf%C3%A9");
        var hex = env.Str("path_info_hex")!;
        Assert.EndsWith("c3a9", hex, StringComparison.Ordinal);
        Assert.Equal("2f656e7669726f6e2f636166c3a9", hex); // "/environ/caf" + the two raw bytes
    }

    [Fact]
    public async Task A_header_with_an_underscore_in_its_name_is_not_passed_to_the_app()
    {
        var (_, env) = await RawGetJsonAsync(RawHttp.Get("/environ", "Foo_Bar: x\r\nFoo-Baz: y\r\nConnection: close\r\n"));
        Assert.False(env.TryGetProperty("HTTP_FOO_BAR", out var v), $"HTTP_FOO_BAR = {v}");
        Assert.Equal("y", env.Str("HTTP_FOO_BAZ"));
    }

    [Fact]
    public async Task A_Proxy_header_never_becomes_HTTP_PROXY_and_a_chunked_body_arrives_without_its_Transfer_Encoding()
    {
        // httpoxy: HTTP_PROXY is what HTTP client libraries read as their proxy setting.
        var (_, env) = await RawGetJsonAsync(RawHttp.Get("/environ", "Proxy: http://evil.example:8080\r\nConnection: close\r\n"));
        Assert.False(env.TryGetProperty("HTTP_PROXY", out var proxy), $"HTTP_PROXY = {proxy}");
    }

    [Fact]
    public async Task Header_bytes_above_ascii_reach_the_app_as_latin1()
    {
        var (_, env) = await RawGetJsonAsync(RawHttp.Get("/environ", "X-Latin: caf\u00e9\r\nConnection: close\r\n"));
        Assert.Equal("caf\u00e9", env.GetProperty("HTTP_X_LATIN").GetString());
    }

    [Fact]
    public async Task Duplicate_request_headers_are_joined_with_a_comma()
    {
        var (_, env) = await RawGetJsonAsync(RawHttp.Get("/environ", "X-Dup: a\r\nX-Dup: b\r\nConnection: close\r\n"));
        Assert.Equal("a,b", env.Str("HTTP_X_DUP"));
    }

    [Fact]
    public async Task A_script_name_prefix_goes_to_SCRIPT_NAME_and_is_taken_off_PATH_INFO()
    {
        await using var server = await TapsterServer.StartAsync("probe:app", "--workers", "1", "--threads", "2", "--script-name", "/mnt");
        var env = await server.Client.GetJsonAsync("/mnt/environ/x");
        Assert.Equal("/mnt", env.Str("SCRIPT_NAME"));
        Assert.Equal("/environ/x", env.Str("PATH_INFO"));
    }

    [Fact]
    public async Task A_client_X_Request_ID_is_passed_to_the_app_and_echoed_in_the_response()
    {
        using var req = new HttpRequestMessage(HttpMethod.Get, "/environ");
        req.Headers.Add("X-Request-ID", "client-rid-7788");
        using var r = await Server.Client.SendAsync(req);
        var env = JsonDocument.Parse(await r.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("client-rid-7788", env.Str("HTTP_X_REQUEST_ID"));
        Assert.Equal("client-rid-7788", r.Header("X-Request-ID"));
    }

    [Fact]
    public async Task Without_an_X_Request_ID_a_generated_one_is_given_to_the_app_and_the_client()
    {
        using var r = await Server.Client.GetAsync("/environ");
        var env = JsonDocument.Parse(await r.Content.ReadAsStringAsync()).RootElement;
        var id = r.Header("X-Request-ID");
        Assert.False(string.IsNullOrWhiteSpace(id));
        Assert.Equal(id, env.Str("HTTP_X_REQUEST_ID"));
        using var r2 = await Server.Client.GetAsync("/");
        Assert.NotEqual(id, r2.Header("X-Request-ID"));
    }

    [Fact]
    public async Task QUERY_STRING_is_passed_without_decoding()
    {
        var env = await Server.Client.GetJsonAsync("/environ?q=caf%C3%A9&x=a%20b+c");
        Assert.Equal("q=caf%C3%A9&x=a%20b+c", env.Str("QUERY_STRING"));
    }

    [Fact]
    public async Task Content_type_and_length_are_CONTENT_TYPE_and_CONTENT_LENGTH_not_HTTP_keys()
    {
        var (_, env) = await RawGetJsonAsync(
            "GET /environ HTTP/1.1\r\nHost: x\r\nContent-Type: text/x-probe\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc");
        Assert.Equal("text/x-probe", env.Str("CONTENT_TYPE"));
        Assert.Equal("3", env.Str("CONTENT_LENGTH"));
        Assert.False(env.TryGetProperty("HTTP_CONTENT_TYPE", out _), "HTTP_CONTENT_TYPE is set");
        Assert.False(env.TryGetProperty("HTTP_CONTENT_LENGTH", out _), "HTTP_CONTENT_LENGTH is set");
    }

    [Fact]
    public async Task Two_requests_on_one_keep_alive_connection_are_both_answered()
    {
        using var raw = await RawHttp.ConnectAsync(Server.Port);
        await raw.SendAsync(RawHttp.Get("/"));
        Assert.True(await raw.ReadUntilAsync(t => t.EndsWith("\r\n\r\nok", StringComparison.Ordinal), Http.Short), raw.Text);
        await raw.SendAsync(RawHttp.Get("/health"));
        Assert.True(await raw.ReadUntilAsync(t => t.Contains("\"status\":\"ok\"", StringComparison.Ordinal), Http.Short), raw.Text);
        Assert.Equal(2, raw.StatusLineCount);
        Assert.False(raw.Closed);
    }
}

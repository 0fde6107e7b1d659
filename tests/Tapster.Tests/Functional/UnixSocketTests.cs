using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace Tapster.Tests.Functional;

[Collection(FunctionalGroup.Name)]
public sealed class UnixSocketTests : IDisposable
{
    readonly string directory = Directory.CreateTempSubdirectory("tapster-unix-").FullName;

    string SocketPath => Path.Combine(directory, "app.sock");

    public void Dispose() => Directory.Delete(directory, recursive: true);

    static HttpClient ClientOf(string path) => new(new SocketsHttpHandler
    {
        ConnectCallback = async (_, cancel) =>
        {
            var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), cancel);
            return new NetworkStream(socket, ownsSocket: true);
        },
    })
    { BaseAddress = new Uri("http://app.example"), Timeout = Http.Short };

    [Fact]
    public async Task A_unix_socket_bind_serves_the_app_to_its_owner_and_group_only_and_its_file_goes_at_stop()
    {
        await using var server = await TapsterServer.StartAsync("probe:app", "--workers", "1", "--bind", $"unix:{SocketPath}");
        using var client = ClientOf(SocketPath);

        var environ = await client.GetJsonAsync("/environ");
        Assert.Equal("app.example", environ.GetProperty("HTTP_HOST").GetString());
        Assert.Equal("localhost", environ.GetProperty("SERVER_NAME").GetString());
        Assert.Equal("80", environ.GetProperty("SERVER_PORT").GetString());
        Assert.False(environ.TryGetProperty("REMOTE_ADDR", out _), "a Unix socket client has no address to give");
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite, File.GetUnixFileMode(SocketPath));
        var access = await server.WaitForEventAsync(e => e.Str("event") == "access" && e.Str("path") == "/environ", Http.Short);
        Assert.Equal("unix:", access.Str("remote"));
        var listening = Assert.Single(server.Events("server.listening"));
        Assert.Contains($"unix:{SocketPath}", listening.Str("bind"), StringComparison.Ordinal);

        server.SendSigterm();
        Assert.Equal(0, await server.WaitForExitAsync(Http.Long));
        Assert.False(File.Exists(SocketPath), "the socket file outlived the server");
    }

    [Fact]
    public async Task A_socket_file_left_by_a_dead_run_is_replaced()
    {
        using (var dead = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
        {
            dead.Bind(new UnixDomainSocketEndPoint(SocketPath)); // closed without removing its file, as after SIGKILL
        }

        await using var server = await TapsterServer.StartAsync("probe:app", "--workers", "1", "--bind", $"unix:{SocketPath}");
        using var client = ClientOf(SocketPath);
        Assert.Equal("ok", await client.GetStringAsync("/"));
    }

    [Fact]
    public async Task A_socket_another_server_listens_on_and_a_file_that_is_no_socket_are_left_alone_and_named()
    {
        using (var live = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
        {
            live.Bind(new UnixDomainSocketEndPoint(SocketPath));
            live.Listen(1);
            var (code, _, stderr, _) = await TapsterServer.StartExpectingExitAsync("probe:app", ["--bind", $"unix:{SocketPath}"]);
            Assert.Equal(2, code);
            Assert.Contains($"cannot listen on unix:{SocketPath}: another server is listening on it", stderr, StringComparison.Ordinal);
            Assert.True(File.Exists(SocketPath));
        }

        File.Delete(SocketPath);
        File.WriteAllText(SocketPath, "precious");
        var (fileCode, _, fileStderr, _) = await TapsterServer.StartExpectingExitAsync("probe:app", ["--bind", $"unix:{SocketPath}"]);
        Assert.Equal(2, fileCode);
        Assert.Contains("it exists and is not a socket", fileStderr, StringComparison.Ordinal);
        Assert.Equal("precious", File.ReadAllText(SocketPath));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Forwarded_headers_from_a_unix_socket_client_count_only_when_unix_is_trusted(bool trusted)
    {
        string[] flags = trusted
            ? ["--workers", "1", "--bind", $"unix:{SocketPath}", "--forwarded-allow-ips", "unix"]
            : ["--workers", "1", "--bind", $"unix:{SocketPath}"];
        await using var server = await TapsterServer.StartAsync("probe:app", flags);
        using var client = ClientOf(SocketPath);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/environ");
        request.Headers.Add("X-Forwarded-For", "203.0.113.9");
        request.Headers.Add("X-Forwarded-Proto", "https");
        using var response = await client.SendAsync(request);
        var environ = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

        Assert.Equal(trusted ? "203.0.113.9" : null, environ.TryGetProperty("REMOTE_ADDR", out var remote) ? remote.GetString() : null);
        Assert.Equal(trusted ? "https" : "http", environ.GetProperty("wsgi.url_scheme").GetString());
        Assert.Equal(trusted ? "443" : "80", environ.GetProperty("SERVER_PORT").GetString());
        Assert.False(environ.TryGetProperty("HTTP_X_FORWARDED_FOR", out _) && !trusted, "an untrusted client's X-Forwarded-For reached the app");
    }

    [Fact]
    public async Task A_PROXY_protocol_header_on_a_unix_listener_names_the_client()
    {
        await using var server = await TapsterServer.StartAsync("probe:app",
            "--workers", "1", "--bind", $"unix:{SocketPath}", "--proxy-protocol", $"unix:{SocketPath}", "--forwarded-allow-ips", "unix");
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await socket.ConnectAsync(new UnixDomainSocketEndPoint(SocketPath));
        await socket.SendAsync(Encoding.ASCII.GetBytes("PROXY TCP4 203.0.113.9 10.0.0.1 5555 80\r\nGET /environ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
        using var stream = new NetworkStream(socket);
        using var reader = new StreamReader(stream, Encoding.Latin1);
        var response = await reader.ReadToEndAsync().WaitAsync(Http.Short);

        var environ = JsonDocument.Parse(response[(response.IndexOf("\r\n\r\n", StringComparison.Ordinal) + 4)..]).RootElement;
        Assert.Equal("203.0.113.9", environ.GetProperty("REMOTE_ADDR").GetString());
        Assert.Equal("5555", environ.GetProperty("REMOTE_PORT").GetString());
    }
}

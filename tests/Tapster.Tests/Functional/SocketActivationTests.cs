using System.Globalization;

namespace Tapster.Tests.Functional;

[Collection(FunctionalGroup.Name)]
public sealed class SocketActivationTests : IDisposable
{
    readonly string directory = Directory.CreateTempSubdirectory("tapster-fd-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    [Fact]
    public async Task A_socket_passed_as_systemd_does_is_served_and_no_python_process_inherits_it()
    {
        var portFile = Path.Combine(directory, "port");
        var launcher = Path.Combine(TapsterServer.TestAssets, "with_listening_socket.py");
        await using var server = await TapsterServer.StartUnderAsync(launcher, "envprobe:app",
            new Dictionary<string, string> { ["LISTENING_PORT_FILE"] = portFile }, "--workers", "1", "--bind", "fd://3");
        var port = int.Parse(await File.ReadAllTextAsync(portFile), CultureInfo.InvariantCulture);

        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = Http.Short };
        Assert.Equal("""{"LISTEN_FDS": null, "LISTEN_PID": null}""", await client.GetStringAsync("/?k=LISTEN_FDS&k=LISTEN_PID"));
        // The log line may follow the first answer: it is written by the log's own writer.
        var listening = await server.WaitForEventAsync(e => e.Str("event") == "server.listening", Http.Short);
        Assert.Contains($"127.0.0.1:{port}", listening.Str("bind"), StringComparison.Ordinal);

        // A worker holding the socket would keep the port open after Tapster stopped.
        var socket = new FileInfo($"/proc/{server.Pid}/fd/3").LinkTarget;
        Assert.StartsWith("socket:", socket, StringComparison.Ordinal);
        foreach (var pid in server.ProcessTree().Where(pid => pid != server.Pid))
        {
            Assert.DoesNotContain(Directory.GetFiles($"/proc/{pid}/fd"), fd => new FileInfo(fd).LinkTarget == socket);
        }
    }

    [Fact]
    public async Task A_passed_socket_can_serve_TLS_and_plain_HTTP_redirects_to_its_port()
    {
        using var certificate = Tapster.Tests.Unit.Tls.TestCertificates.Create(["main.test"]);
        Tapster.Tests.Unit.Tls.TestCertificates.Write(directory, "main", certificate);
        var portFile = Path.Combine(directory, "port");
        var launcher = Path.Combine(TapsterServer.TestAssets, "with_listening_socket.py");
        await using var server = await TapsterServer.StartUnderAsync(launcher, "envprobe:app",
            new Dictionary<string, string> { ["LISTENING_PORT_FILE"] = portFile },
            "--workers", "1", "--tls-bind", "fd://3", "--tls-cert", $"{Path.Combine(directory, "main.pem")}={Path.Combine(directory, "main.key")}");
        var port = int.Parse(await File.ReadAllTextAsync(portFile), CultureInfo.InvariantCulture);

        using var https = new HttpClient(new SocketsHttpHandler
        {
            SslOptions = new System.Net.Security.SslClientAuthenticationOptions
            {
                RemoteCertificateValidationCallback = (_, cert, _, _) => cert?.GetCertHashString() == certificate.Thumbprint,
            },
        })
        { BaseAddress = new Uri($"https://127.0.0.1:{port}"), Timeout = Http.Short };
        Assert.Equal("{}", await https.GetStringAsync("/"));

        using var plain = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false }) { BaseAddress = server.BaseAddress, Timeout = Http.Short };
        using var redirect = await plain.GetAsync("/page");
        Assert.Equal(System.Net.HttpStatusCode.PermanentRedirect, redirect.StatusCode);
        Assert.Equal($"https://127.0.0.1:{port}/page", redirect.Headers.Location?.ToString());
    }

    [Theory]
    [InlineData("fd://7", "Tapster was not started with descriptor 7 open")]
    [InlineData("fd://2", "a descriptor number from 3")]
    public async Task A_descriptor_that_is_not_a_passed_socket_is_refused_naming_it(string bind, string error)
    {
        var (code, _, stderr, _) = await TapsterServer.StartExpectingExitAsync("envprobe:app", ["--bind", bind]);
        Assert.Equal(2, code);
        Assert.Contains(error, stderr, StringComparison.Ordinal);
    }
}

using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json;

namespace Tapster.Tests.Functional;

/// <summary>
/// All functional tests run one after another: each starts real server and Python processes, and
/// several measure timing, which a 2-core machine running them side by side would blur.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class FunctionalGroup : ICollectionFixture<SharedProbeServer>
{
    public const string Name = "Functional";
}

/// <summary>A server started once for a class or collection of tests and stopped after the last one.</summary>
public abstract class ServerFixture(string app, IDictionary<string, string>? env, params string[] flags) : IAsyncLifetime
{
    TapsterServer? server;

    public TapsterServer Server => server ?? throw new InvalidOperationException("not started");

    public async Task InitializeAsync() => server = await TapsterServer.StartAsync(app, env, flags);

    public async Task DisposeAsync()
    {
        if (server is not null) await server.DisposeAsync();
    }
}

/// <summary>
/// One probe:app server (1 worker x 4 threads) shared by tests that neither break workers nor depend
/// on what other requests did.
/// </summary>
public sealed class SharedProbeServer() : ServerFixture("probe:app", null, "--workers", "1", "--threads", "4");

static class Http
{
    public static readonly TimeSpan Short = TimeSpan.FromSeconds(10);
    public static readonly TimeSpan Long = TimeSpan.FromSeconds(60);

    public static async Task<JsonElement> GetJsonAsync(this HttpClient client, string path)
    {
        using var r = await client.GetAsync(path);
        var text = await r.Content.ReadAsStringAsync();
        Assert.True(r.IsSuccessStatusCode, $"GET {path} -> {(int)r.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    public static async Task<string> GetTextAsync(this HttpClient client, string path)
    {
        using var r = await client.GetAsync(path);
        var text = await r.Content.ReadAsStringAsync();
        Assert.True(r.IsSuccessStatusCode, $"GET {path} -> {(int)r.StatusCode}: {text}");
        return text;
    }

    public static string Sha256Hex(byte[] data) => Convert.ToHexStringLower(SHA256.HashData(data));

    public static string? Str(this JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    public static string? Header(this HttpResponseMessage r, string name) =>
        r.Headers.TryGetValues(name, out var v) ? string.Join(",", v)
        : r.Content.Headers.TryGetValues(name, out var c) ? string.Join(",", c) : null;
}

/// <summary>A request body of unknown length: HttpClient sends it with Transfer-Encoding: chunked.</summary>
sealed class ChunkedContent(byte[] data, int pieceSize) : HttpContent
{
    protected override async Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context)
    {
        for (var i = 0; i < data.Length; i += pieceSize)
        {
            await stream.WriteAsync(data.AsMemory(i, Math.Min(pieceSize, data.Length - i)));
            await stream.FlushAsync();
        }
    }

    protected override bool TryComputeLength(out long length)
    {
        length = -1;
        return false;
    }

    public static ChunkedContent Of(byte[] data, int pieceSize = 64 * 1024)
    {
        var c = new ChunkedContent(data, pieceSize);
        c.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        return c;
    }
}

/// <summary>A project directory of its own holding the app module versioned.py, rewritten as a deploy would; deleted at the end.</summary>
sealed class VersionedApp : IDisposable
{
    public string Directory { get; } = System.IO.Directory.CreateTempSubdirectory("tapster-deploy-").FullName;

    public Task WriteAsync(string source) => File.WriteAllTextAsync(Path.Combine(Directory, "versioned.py"), source);

    public void Dispose() => System.IO.Directory.Delete(Directory, recursive: true);
}

using Microsoft.AspNetCore.Http;
using Tapster.Edge;

namespace Tapster.Tests.Unit.Edge;

public sealed class RequestBodyTests : IDisposable
{
    private readonly DirectoryInfo _spool = Directory.CreateTempSubdirectory("spool-");

    [Fact]
    public async Task ReadAsync_SmallBody_StaysInMemory()
    {
        using var body = await ReadAsync(new byte[1000], spoolThreshold: 4096);

        Assert.Null(body!.SpoolPath);
        Assert.Equal(1000, body.InlineMemory.Length);
        Assert.Empty(_spool.GetFiles());
    }

    [Fact]
    public async Task ReadAsync_LargeBody_IsSpooledToAPrivateFileThatDisposeDeletes()
    {
        var data = new byte[10_000];
        Random.Shared.NextBytes(data);

        var body = await ReadAsync(data, spoolThreshold: 4096);

        Assert.NotNull(body!.SpoolPath);
        Assert.Equal(data, await File.ReadAllBytesAsync(body.SpoolPath));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(body.SpoolPath));
        body.Dispose();
        Assert.Empty(_spool.GetFiles());
    }

    [Fact]
    public async Task ReadAsync_BodyOverTheLimit_ReturnsNullAndLeavesNoFile()
    {
        var body = await ReadAsync(new byte[10_000], spoolThreshold: 1024, maxSize: 5000);

        Assert.Null(body);
        Assert.Empty(_spool.GetFiles());
    }

    [Fact]
    public async Task ReadAsync_DeclaredLengthOverTheLimit_ReturnsNullWithoutReading()
    {
        var context = NewContext(new byte[10]);
        context.Request.ContentLength = 1_000_000;

        Assert.Null(await RequestBody.ReadAsync(context, 5000, 1024, _spool.FullName));
    }

    public void Dispose() => _spool.Delete(recursive: true);

    private Task<RequestBody?> ReadAsync(byte[] data, int spoolThreshold, long maxSize = 1_000_000) =>
        RequestBody.ReadAsync(NewContext(data), maxSize, spoolThreshold, _spool.FullName).AsTask();

    private static DefaultHttpContext NewContext(byte[] data)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = "POST";
        context.Request.Body = new MemoryStream(data);
        return context;
    }
}

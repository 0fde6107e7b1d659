using Tapster.Edge;

namespace Tapster.Tests.Unit.Edge;

public sealed class ResponseSpoolTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("spool-");

    private static byte[] Chunk(int index, int size) => [.. Enumerable.Range(0, size).Select(i => (byte)(index * 31 + i))];

    private static async Task<byte[]> ReadAllAsync(ResponseSpool spool)
    {
        var all = new MemoryStream();
        while (true)
        {
            var piece = await spool.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
            if (piece.IsEmpty)
            {
                return all.ToArray();
            }

            all.Write(piece.Span);
        }
    }

    [Fact]
    public async Task Bytes_come_out_in_order_through_memory_and_then_the_file_which_leaves_no_name_behind()
    {
        using var spool = new ResponseSpool(_dir.FullName, memoryLimit: 1000);
        var chunks = Enumerable.Range(0, 20).Select(i => Chunk(i, 300)).ToList();
        foreach (var chunk in chunks)
        {
            await spool.WriteAsync(chunk);
        }

        spool.Complete();

        Assert.Equal(chunks.SelectMany(c => c).ToArray(), await ReadAllAsync(spool));
        Assert.Empty(_dir.GetFiles());
        Assert.Null(spool.FileFailure);
    }

    [Fact]
    public async Task A_reader_waiting_for_bytes_gets_them_as_they_are_written()
    {
        using var spool = new ResponseSpool(_dir.FullName, memoryLimit: 100);
        var reading = ReadAllAsync(spool);
        for (var i = 0; i < 10; i++)
        {
            await spool.WriteAsync(Chunk(i, 64));
        }

        spool.Complete();
        Assert.Equal(640, (await reading).Length);
    }

    [Fact]
    public async Task A_full_spool_makes_the_writer_wait_until_the_reader_takes_some()
    {
        var waits = new List<bool>();
        using var spool = new ResponseSpool(_dir.FullName, memoryLimit: 100, fileLimit: 200, writerWaiting: waits.Add);
        await spool.WriteAsync(Chunk(0, 100)); // memory
        await spool.WriteAsync(Chunk(1, 200)); // file, full now
        Assert.Empty(waits);
        var blocked = spool.WriteAsync(Chunk(2, 50)).AsTask();
        Assert.False(blocked.IsCompleted);
        Assert.Equal([true], waits);

        var reading = ReadAllAsync(spool);
        await blocked.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.False(waits[^1]);
        spool.Complete();
        byte[] expected = [.. Chunk(0, 100), .. Chunk(1, 200), .. Chunk(2, 50)];
        Assert.Equal(expected, await reading);
    }

    [Theory]
    [InlineData("gone", 100, ResponseSpool.FileLimit, true)] // a directory that is not there: the file fails
    [InlineData("", 100, 0L, false)] // no file allowed
    [InlineData("", 0, 0L, false)] // no memory either: one chunk at a time
    public async Task Without_a_file_the_spool_keeps_to_memory_and_the_writer_waits_for_the_reader(string subdirectory, int memoryLimit, long fileLimit, bool fileFailed)
    {
        using var spool = new ResponseSpool(Path.Combine(_dir.FullName, subdirectory), memoryLimit, fileLimit);
        await spool.WriteAsync(Chunk(0, 80));
        var second = spool.WriteAsync(Chunk(1, 80)).AsTask(); // no room in memory, and no file
        Assert.False(second.IsCompleted);
        Assert.Equal(fileFailed, spool.FileFailure is not null);

        var reading = ReadAllAsync(spool);
        await second.WaitAsync(TimeSpan.FromSeconds(10));
        spool.Complete();
        byte[] expected = [.. Chunk(0, 80), .. Chunk(1, 80)];
        Assert.Equal(expected, await reading);
    }

    [Fact]
    public async Task An_abandoned_spool_drops_what_it_holds_and_never_makes_the_writer_wait()
    {
        using var spool = new ResponseSpool(_dir.FullName, memoryLimit: 100, fileLimit: 100);
        await spool.WriteAsync(Chunk(0, 100));
        await spool.WriteAsync(Chunk(1, 100));
        var blocked = spool.WriteAsync(Chunk(2, 100)).AsTask();

        spool.Abandon();

        await blocked.WaitAsync(TimeSpan.FromSeconds(10));
        await spool.WriteAsync(Chunk(3, 1000));
        Assert.True((await spool.ReadAsync()).IsEmpty);
    }

    public void Dispose() => _dir.Delete(recursive: true);
}

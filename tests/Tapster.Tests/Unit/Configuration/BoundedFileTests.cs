using System.Diagnostics;
using Tapster.Configuration;

namespace Tapster.Tests.Unit.Configuration;

public sealed class BoundedFileTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("bounded-");

    public void Dispose() => _dir.Delete(recursive: true);

    [Fact]
    public void A_small_file_is_read_whole_with_its_byte_order_mark_honoured()
    {
        var path = Path.Combine(_dir.FullName, "a.toml");
        File.WriteAllText(path, "x = 1\n", new System.Text.UTF8Encoding(encoderShouldEmitUTF8Identifier: true));

        Assert.Equal("x = 1\n", BoundedFile.ReadAllText(path, 100));
    }

    [Fact]
    public void A_file_over_the_cap_is_refused_naming_the_cap()
    {
        var path = Path.Combine(_dir.FullName, "big");
        File.WriteAllBytes(path, new byte[200_000]);

        var e = Assert.Throws<IOException>(() => BoundedFile.ReadAllBytes(path, 100_000));
        Assert.Contains("larger than 100KB", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_device_that_never_ends_is_cut_at_the_cap() =>
        Assert.Throws<IOException>(() => BoundedFile.ReadAllBytes("/dev/zero", 4096));

    [Fact]
    public void A_FIFO_nobody_writes_to_is_refused_at_once_instead_of_blocking()
    {
        var fifo = Path.Combine(_dir.FullName, "fifo");
        using (var mkfifo = Process.Start("mkfifo", [fifo]))
        {
            mkfifo.WaitForExit();
        }

        var e = Assert.Throws<IOException>(() => BoundedFile.ReadAllBytes(fifo, 4096));
        Assert.Contains("not a regular file", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_directory_or_a_missing_file_is_an_IOException_naming_it()
    {
        Assert.Contains("is a directory", Assert.Throws<IOException>(() => BoundedFile.ReadAllBytes(_dir.FullName, 10)).Message, StringComparison.Ordinal);
        Assert.Contains("missing", Assert.Throws<IOException>(() => BoundedFile.ReadAllBytes(Path.Combine(_dir.FullName, "missing"), 10)).Message, StringComparison.Ordinal);
    }
}

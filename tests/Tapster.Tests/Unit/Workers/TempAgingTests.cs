using System.Net.Sockets;
using Tapster.Workers;

namespace Tapster.Tests.Unit.Workers;

public sealed class TempAgingTests : IDisposable
{
    private static readonly DateTime MonthAgo = DateTime.UtcNow.AddDays(-30);

    private readonly string _directory = Directory.CreateTempSubdirectory("tpage").FullName;

    [Fact]
    public void Refresh_MakesAnOldDirectoryAndItsSocketLookFreshToATmpCleaner()
    {
        var socketPath = Path.Combine(_directory, "workers.sock");
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(socketPath));
        foreach (var path in new[] { socketPath, _directory })
        {
            File.SetLastAccessTimeUtc(path, MonthAgo);
            File.SetLastWriteTimeUtc(path, MonthAgo);
        }

        var now = DateTime.UtcNow;
        Assert.True(TempAging.Refresh([_directory, socketPath], now));

        foreach (var path in new[] { socketPath, _directory })
        {
            Assert.True(File.GetLastWriteTimeUtc(path) > now.AddMinutes(-1), $"{path} still has write time {File.GetLastWriteTimeUtc(path):u}");
            Assert.True(File.GetLastAccessTimeUtc(path) > now.AddMinutes(-1), $"{path} still has access time {File.GetLastAccessTimeUtc(path):u}");
        }
    }

    [Fact]
    public void Refresh_ReportsAPathThatIsGone()
    {
        Assert.False(TempAging.Refresh([Path.Combine(_directory, "gone", "workers.sock")], DateTime.UtcNow));
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}

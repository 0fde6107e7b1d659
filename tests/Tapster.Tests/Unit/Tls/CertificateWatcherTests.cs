using Microsoft.Extensions.Logging;
using Tapster.Tls;

namespace Tapster.Tests.Unit.Tls;

public sealed class CertificateWatcherTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("cert-watch-");
    private readonly RecordingLogger _log = new();

    private (CertificateWatcher Watcher, string Thumbprint) Watch()
    {
        var certificate = TestCertificates.Create(["main.test"]);
        var (cert, key) = TestCertificates.Write(_dir.FullName, "main", certificate);
        List<CertificateFiles> files = [new(cert, key)];
        var initial = CertificateLoader.LoadAll(files, out var error) ?? throw new InvalidOperationException(error);
        return (new CertificateWatcher(initial, files, TimeSpan.FromMilliseconds(50), _log), certificate.Thumbprint);
    }

    [Fact]
    public async Task An_expired_certificate_copied_over_a_valid_one_is_not_served()
    {
        var (watcher, thumbprint) = Watch();
        using (watcher)
        {
            TestCertificates.Write(_dir.FullName, "main", TestCertificates.Create(["main.test"], notAfter: DateTimeOffset.UtcNow.AddDays(-1)));

            var line = await _log.WaitForAsync(l => l.Contains("not reloaded", StringComparison.Ordinal));
            Assert.Contains("expired on", line, StringComparison.Ordinal);
            Assert.Equal(thumbprint, watcher.Current.Certificates.Single().Certificate.Thumbprint);
        }
    }

    [Fact]
    public async Task A_renewed_certificate_is_served()
    {
        var (watcher, _) = Watch();
        using (watcher)
        {
            var renewed = TestCertificates.Create(["main.test"], notAfter: DateTimeOffset.UtcNow.AddDays(45));
            TestCertificates.Write(_dir.FullName, "main", renewed);

            await _log.WaitForAsync(l => l.Contains("reloaded:", StringComparison.Ordinal));
            Assert.Equal(renewed.Thumbprint, watcher.Current.Certificates.Single().Certificate.Thumbprint);
        }
    }

    public void Dispose() => _dir.Delete(recursive: true);

    /// <summary>Collects formatted log lines; a test waits for the one it expects (10 s at most).</summary>
    private sealed class RecordingLogger : ILogger
    {
        private readonly List<string> _lines = [];

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (_lines)
            {
                _lines.Add(formatter(state, exception));
            }
        }

        public async Task<string> WaitForAsync(Func<string, bool> match)
        {
            var deadline = DateTime.UtcNow.AddSeconds(10);
            while (DateTime.UtcNow < deadline)
            {
                lock (_lines)
                {
                    if (_lines.FirstOrDefault(match) is { } line)
                    {
                        return line;
                    }
                }

                await Task.Delay(20);
            }

            throw new TimeoutException("no matching log line within 10 s");
        }
    }
}

using Microsoft.Extensions.Logging;

namespace Tapster.Tls;

/// <summary>
/// Serves the current <see cref="CertificateSet"/> and reloads it when a certificate or key file
/// changes on disk (a renewal by certbot or a deploy), without a restart. Polling, not inotify: it
/// also sees files replaced through symlinks, as certbot's live/ directory does. A file that does
/// not load keeps the old set in use and is logged; the next change is tried again. So does a
/// certificate browsers would refuse (expired, or not valid yet) in place of one they accept: an old
/// file copied back by mistake must not take a working site down.
/// </summary>
internal sealed partial class CertificateWatcher : IDisposable
{
    private readonly IReadOnlyList<CertificateFiles> _files;
    private readonly ILogger _logger;
    private readonly Timer _timer;
    private readonly Lock _gate = new();
    private CertificateSet _current;
    private string _stamp;

    public CertificateWatcher(CertificateSet initial, IReadOnlyList<CertificateFiles> files, TimeSpan interval, ILogger logger)
    {
        _current = initial;
        _files = files;
        _logger = logger;
        _stamp = Stamp();
        _timer = new Timer(_ => Poll(), null, interval, interval);
    }

    public CertificateSet Current => Volatile.Read(ref _current);

    public void Dispose() => _timer.Dispose();

    private void Poll()
    {
        // A slow load must not overlap the next tick's.
        if (!_gate.TryEnter())
        {
            return;
        }

        try
        {
            var stamp = Stamp();
            if (stamp == _stamp)
            {
                return;
            }

            _stamp = stamp;
            var loaded = CertificateLoader.LoadAll(_files, out var error);
            if (loaded is not null && WorseThanCurrent(loaded) is { } worse)
            {
                LogReloadFailed(_logger, $"{worse}, and the one in use is valid");
            }
            else if (loaded is not null)
            {
                Volatile.Write(ref _current, loaded);
                var thumbprints = string.Join(", ", loaded.Certificates.Select(c => c.Certificate.Thumbprint));
                LogReloaded(_logger, thumbprints);
            }
            else
            {
                LogReloadFailed(_logger, error!);
            }
        }
        finally
        {
            _gate.Exit();
        }
    }

    /// <summary>A new certificate browsers would refuse where the current one for the same files is accepted.</summary>
    private string? WorseThanCurrent(CertificateSet loaded)
    {
        var now = DateTime.Now;
        return loaded.Certificates
            .Where(c => _current.Certificates.Any(old => old.Files == c.Files && old.ValidityProblem(now) is null))
            .Select(c => c.ValidityProblem(now))
            .FirstOrDefault(problem => problem is not null);
    }

    /// <summary>Every file's last-write time and length: a change to either means a new file.</summary>
    private string Stamp() => string.Join('|', _files.SelectMany(f => new[] { f.Cert, f.Key }).Select(path =>
    {
        // certbot's live/ names are symlinks to the newest archive/ files: what counts is the target.
        var link = new FileInfo(path);
        var info = link.Exists ? link.ResolveLinkTarget(returnFinalTarget: true) as FileInfo ?? link : link;
        return info.Exists ? $"{info.LastWriteTimeUtc.Ticks}:{info.Length}" : "missing";
    }));

    [LoggerMessage(EventId = 40, EventName = "tls.reloaded", Level = LogLevel.Information, Message = "TLS certificates reloaded: {Thumbprints}")]
    private static partial void LogReloaded(ILogger logger, string thumbprints);

    [LoggerMessage(EventId = 41, EventName = "tls.reload_failed", Level = LogLevel.Error, Message = "TLS certificates not reloaded, the previous ones stay in use: {Error}")]
    private static partial void LogReloadFailed(ILogger logger, string error);
}

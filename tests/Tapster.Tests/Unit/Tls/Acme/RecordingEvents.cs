using System.Security.Cryptography.X509Certificates;
using System.Threading.Channels;
using Tapster.Tls.Acme;

namespace Tapster.Tests.Unit.Tls.Acme;

/// <summary>The scheduler's events, in order, for a test to wait on one by one.</summary>
internal sealed class RecordingEvents : IRenewalEvents
{
    readonly Channel<Recorded> events = Channel.CreateUnbounded<Recorded>();

    public void Loaded(string domain, X509Certificate2 certificate) => Add(new("loaded", domain, null, certificate));

    public void LoadFailed(string domain, string error) => Add(new("load_failed", domain, null, null));

    public void Scheduled(string domain, DateTimeOffset at) => Add(new("scheduled", domain, at, null));

    public void Issued(string domain, X509Certificate2 certificate) => Add(new("issued", domain, null, certificate));

    public void Failed(string domain, Exception error, DateTimeOffset retryAt, X509Certificate2? kept) => Add(new("failed", domain, retryAt, kept));

    /// <summary>The next event, which must be of <paramref name="kind"/>, within 10 seconds.</summary>
    public async Task<Recorded> NextAsync(string kind)
    {
        var next = await events.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(next.Kind == kind, $"expected {kind}, got {next}");
        return next;
    }

    void Add(Recorded recorded) => events.Writer.TryWrite(recorded);

    internal sealed record Recorded(string Kind, string Domain, DateTimeOffset? At, X509Certificate2? Certificate);
}

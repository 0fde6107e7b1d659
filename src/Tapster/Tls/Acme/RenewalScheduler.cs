using System.Security.Cryptography.X509Certificates;

namespace Tapster.Tls.Acme;

/// <summary>
/// Keeps one certificate per host name: serves the stored one at start, gets one when there is none,
/// renews when a third of its lifetime is left (Let's Encrypt's advice: day 60 of 90), and retries a
/// failure with doubling waits. A certificate is only ever replaced by a newer one: a failed renewal
/// leaves the current one served.
/// </summary>
internal sealed class RenewalScheduler(
    IReadOnlyList<string> domains,
    AcmeStore store,
    Func<string, CancellationToken, Task<ServerCertificate>> obtain,
    ServedCertificates served,
    IRenewalEvents events,
    TimeProvider time) : IAsyncDisposable
{
    /// <summary>The first retry comes soon (a port not yet open, a DNS record on its way) ...</summary>
    public static readonly TimeSpan FirstRetry = TimeSpan.FromMinutes(1);

    /// <summary>... and they never drift further apart than this, well inside Let's Encrypt's hourly failed-validation limit.</summary>
    public static readonly TimeSpan LongestRetry = TimeSpan.FromHours(1);

    /// <summary>One attempt, however a CA stalls, ends by then and counts as a failure.</summary>
    private static readonly TimeSpan AttemptTimeout = TimeSpan.FromMinutes(10);

    /// <summary>
    /// Renewals are months away, but a timer waits at most ~49 days; waking daily also notices a clock
    /// that jumped (a suspended VM) within a day.
    /// </summary>
    private static readonly TimeSpan LongestWait = TimeSpan.FromDays(1);

    private readonly CancellationTokenSource _stopping = new();
    private readonly List<Task> _loops = [];

    /// <summary>When a certificate is due: two thirds into its validity.</summary>
    public static DateTimeOffset RenewalTime(X509Certificate2 certificate)
    {
        var notBefore = new DateTimeOffset(certificate.NotBefore.ToUniversalTime());
        var notAfter = new DateTimeOffset(certificate.NotAfter.ToUniversalTime());
        return notAfter - ((notAfter - notBefore) / 3);
    }

    /// <summary>The wait after the <paramref name="failures"/>th failure in a row: 1, 2, 4 ... minutes, at most an hour.</summary>
    public static TimeSpan Backoff(int failures) =>
        TimeSpan.FromTicks(Math.Min(FirstRetry.Ticks << Math.Clamp(failures - 1, 0, 6), LongestRetry.Ticks));

    /// <summary>Serves what the state directory holds, before the listeners open.</summary>
    public void LoadStored()
    {
        foreach (var domain in domains)
        {
            if (store.Load(domain, out var error) is { } stored)
            {
                served.Publish(domain, stored);
                events.Loaded(domain, stored.Certificate);
            }
            else if (error is not null)
            {
                events.LoadFailed(domain, error);
            }
        }
    }

    /// <summary>Starts one loop per host name; HTTP-01 needs the listeners up, so call it once they are.</summary>
    public void Start()
    {
        foreach (var domain in domains)
        {
            _loops.Add(Task.Run(() => MaintainAsync(domain, _stopping.Token)));
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(_loops).ConfigureAwait(false);
        _stopping.Dispose();
    }

    private async Task MaintainAsync(string domain, CancellationToken stopping)
    {
        var failures = 0;
        var next = served.Acme(domain) is { } current ? RenewalTime(current.Certificate) : time.GetUtcNow();
        try
        {
            while (true)
            {
                events.Scheduled(domain, next);
                for (var wait = next - time.GetUtcNow(); wait > TimeSpan.Zero; wait = next - time.GetUtcNow())
                {
                    await Task.Delay(wait < LongestWait ? wait : LongestWait, time, stopping).ConfigureAwait(false);
                }

                try
                {
                    using var attempt = CancellationTokenSource.CreateLinkedTokenSource(stopping);
                    attempt.CancelAfter(AttemptTimeout);
                    var issued = await obtain(domain, attempt.Token).ConfigureAwait(false);
                    served.Publish(domain, issued);
                    events.Issued(domain, issued.Certificate);
                    failures = 0;
                    next = RenewalTime(issued.Certificate);
                }
                catch (Exception e) when (!stopping.IsCancellationRequested)
                {
                    // The loop's root: whatever went wrong (the CA, the network, the disk) is logged and retried.
                    failures++;
                    next = time.GetUtcNow() + Backoff(failures);
                    events.Failed(domain, e, next, served.Acme(domain)?.Certificate);
                }
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            // Shutting down.
        }
    }
}

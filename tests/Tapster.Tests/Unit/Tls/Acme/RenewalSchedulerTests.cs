using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Time.Testing;
using Tapster.Tls;
using Tapster.Tls.Acme;

namespace Tapster.Tests.Unit.Tls.Acme;

public sealed class RenewalSchedulerTests : IDisposable
{
    readonly string dir = Directory.CreateTempSubdirectory("tapster-renewal-").FullName;
    readonly FakeTimeProvider time = new(DateTimeOffset.UtcNow);
    readonly RecordingEvents events = new();
    readonly ServedCertificates served = new(files: null);
    readonly Queue<Func<ServerCertificate>> outcomes = new();
    readonly AcmeStore store;

    public RenewalSchedulerTests() => store = new AcmeStore(dir);

    public void Dispose() => Directory.Delete(dir, recursive: true);

    [Fact]
    public void RenewalTime_IsTwoThirdsIntoTheLifetime()
    {
        using var certificate = TestCertificates.Create(["a.test"], notAfter: new DateTimeOffset(2030, 3, 2, 0, 0, 0, TimeSpan.Zero));

        // TestCertificates' certificates live 60 days: renewal 20 days before the end.
        Assert.Equal(new DateTimeOffset(2030, 2, 10, 0, 0, 0, TimeSpan.Zero), RenewalScheduler.RenewalTime(certificate));
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(2, 2)]
    [InlineData(3, 4)]
    [InlineData(6, 32)]
    [InlineData(7, 60)]
    [InlineData(1000, 60)]
    public void Backoff_DoublesFromOneMinuteUpToAnHour(int failures, int minutes) =>
        Assert.Equal(TimeSpan.FromMinutes(minutes), RenewalScheduler.Backoff(failures));

    [Fact]
    public async Task A_name_without_a_stored_certificate_gets_one_at_once()
    {
        var issued = Certificate(time.GetUtcNow().AddDays(90));
        outcomes.Enqueue(() => issued);
        await using var scheduler = Scheduler();

        scheduler.LoadStored();
        scheduler.Start();

        Assert.Equal(time.GetUtcNow(), (await events.NextAsync("scheduled")).At);
        await events.NextAsync("issued");
        Assert.Same(issued, served.Acme("shop.test"));
        Assert.Equal(RenewalScheduler.RenewalTime(issued.Certificate), (await events.NextAsync("scheduled")).At);
    }

    [Fact]
    public async Task A_stored_certificate_is_served_at_once_and_renewed_when_a_third_of_its_life_is_left()
    {
        var stored = Store(time.GetUtcNow().AddDays(50));
        var renewed = Certificate(time.GetUtcNow().AddDays(120));
        outcomes.Enqueue(() => renewed);
        await using var scheduler = Scheduler();

        scheduler.LoadStored();
        Assert.Equal(stored.Thumbprint, served.Select("shop.test")!.Certificate.Thumbprint);
        await events.NextAsync("loaded");
        scheduler.Start();

        var due = (await events.NextAsync("scheduled")).At!.Value;
        Assert.Equal(RenewalScheduler.RenewalTime(stored), due);
        Assert.Single(outcomes); // nothing asked of the CA before it is due

        time.Advance(due - time.GetUtcNow());

        await events.NextAsync("issued");
        Assert.Same(renewed, served.Acme("shop.test"));
    }

    [Fact]
    public async Task A_failed_renewal_keeps_the_old_certificate_and_retries_after_growing_waits()
    {
        var stored = Store(time.GetUtcNow().AddDays(10));
        var renewed = Certificate(time.GetUtcNow().AddDays(90));
        outcomes.Enqueue(() => throw new AcmeException("the CA is down"));
        outcomes.Enqueue(() => throw new HttpRequestException("connection refused"));
        outcomes.Enqueue(() => renewed);
        await using var scheduler = Scheduler();
        scheduler.LoadStored();
        await events.NextAsync("loaded");
        scheduler.Start();

        await events.NextAsync("scheduled");
        var first = await events.NextAsync("failed");
        Assert.Equal(time.GetUtcNow() + TimeSpan.FromMinutes(1), first.At);
        Assert.Equal(stored.Thumbprint, first.Certificate!.Thumbprint);
        Assert.Equal(stored.Thumbprint, served.Select("shop.test")!.Certificate.Thumbprint);

        Assert.Equal(first.At, (await events.NextAsync("scheduled")).At);
        time.Advance(TimeSpan.FromMinutes(1));
        var second = await events.NextAsync("failed");
        Assert.Equal(time.GetUtcNow() + TimeSpan.FromMinutes(2), second.At);
        Assert.Equal(stored.Thumbprint, served.Select("shop.test")!.Certificate.Thumbprint);

        await events.NextAsync("scheduled");
        time.Advance(TimeSpan.FromMinutes(2));
        await events.NextAsync("issued");
        Assert.Same(renewed, served.Select("shop.test"));
    }

    RenewalScheduler Scheduler() => new(["shop.test"], store, (_, _) =>
    {
        var outcome = outcomes.Dequeue();
        return Task.FromResult(outcome());
    }, served, events, time);

    /// <summary>A certificate stored as a previous run left it.</summary>
    X509Certificate2 Store(DateTimeOffset notAfter)
    {
        var certificate = TestCertificates.Create(["shop.test"], notAfter);
        store.Save("shop.test", certificate.ExportCertificatePem(), certificate.GetECDsaPrivateKey()!.ExportPkcs8PrivateKeyPem());
        return certificate;
    }

    static ServerCertificate Certificate(DateTimeOffset notAfter)
    {
        var certificate = TestCertificates.Create(["shop.test"], notAfter);
        return new ServerCertificate(new CertificateFiles("issued.pem", "issued.pem"), certificate,
            SslStreamCertificateContext.Create(certificate, additionalCertificates: null, offline: true), ["shop.test"]);
    }
}

using System.Net;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Tapster.Configuration;
using Tapster.Edge.Headers;
using Tapster.Edge.Static;
using Tapster.Secrets;
using Tapster.Telemetry;
using Tapster.Tls;
using Tapster.Tls.Acme;
using Tapster.Workers;

namespace Tapster.Edge;

/// <summary>
/// Runs <c>tapster serve</c>: resolves the app and its interpreter, boots the worker pool (exiting with
/// the Python traceback when the app cannot load), then puts Kestrel in front of it until SIGTERM or
/// SIGINT, and drains: in-flight requests finish within the graceful timeout, then the workers stop.
/// </summary>
internal static partial class ServerHost
{
    /// <summary>How soon a renewed certificate is served: quick enough for a deploy, cheap (a stat per file).</summary>
    private static readonly TimeSpan CertificateReloadInterval = TimeSpan.FromSeconds(2);

    public static async Task<int> RunAsync(ServeSettings settings, TextWriter errors)
    {
        AppTarget target;
        IReadOnlyDictionary<string, string> secrets;
        var endPoints = new List<IPEndPoint>();
        var tlsEndPoints = new List<IPEndPoint>();
        try
        {
            target = AppTarget.Resolve(settings);
            // Secrets go into the workers' environment only; the master key into no child at all.
            secrets = SecretStore.Load(SecretsLocation.Resolve(target.WorkingDirectory), warning => errors.WriteLine($"tapster: warning: {warning}"));
            settings = settings with { AppEnvironment = SecretStore.WorkerEnvironment(settings.AppEnvironment, secrets) };
        }
        catch (AppSpecException e)
        {
            return Fail(errors, e.Message, BootFailure.SpecExitCode);
        }
        catch (SecretsException e)
        {
            return Fail(errors, e.Message, BootFailure.SpecExitCode);
        }

        foreach (var bind in settings.Bind)
        {
            if (!BindAddress.TryParse(bind, out var endPoint, out var error))
            {
                return Fail(errors, error!, BootFailure.SpecExitCode);
            }

            endPoints.Add(endPoint!);
        }

        foreach (var bind in settings.Tls.Listen)
        {
            if (!BindAddress.TryParse(bind, out var endPoint, out var error))
            {
                return Fail(errors, $"tls.listen: {error}", BootFailure.SpecExitCode);
            }

            tlsEndPoints.Add(endPoint!);
        }

        // Loaded before the workers boot, so a wrong file stops start-up at once (config loading checked
        // them too, but they may have changed since).
        CertificateSet? certificates = null;
        if (settings.Tls.Certificates.Count > 0)
        {
            certificates = CertificateLoader.LoadAll(settings.Tls.Certificates, out var tlsError);
            if (certificates is null)
            {
                return Fail(errors, $"tls.certificates: {tlsError}", BootFailure.SpecExitCode);
            }

            foreach (var expired in certificates.Certificates.Where(c => c.Certificate.NotAfter < DateTime.Now))
            {
                await errors.WriteLineAsync($"tapster: warning: tls.certificates: '{expired.Files.Cert}' expired on {expired.Certificate.NotAfter:u}; browsers will refuse it").ConfigureAwait(false);
            }
        }

        var staticSites = StaticSite.OpenAll(settings, out var staticError);
        if (staticError is not null)
        {
            return Fail(errors, staticError, BootFailure.SpecExitCode);
        }

        await using var sink = LogSink.ForStandardOutput();
        using var loggerFactory = LoggerFactory.Create(logging =>
        {
            logging.ClearProviders();
            logging.AddProvider(new SinkLoggerProvider(sink, LogLevel.Information));
            logging.AddFilter("Microsoft", LogLevel.Warning);
        });
        var logger = loggerFactory.CreateLogger("Tapster");
        var dispatcher = new Dispatcher(settings.QueueSize, settings.QueueTimeout, TimeProvider.System);
        await using var supervisor = new Supervisor(settings, target.App, target.Pythons, dispatcher, new AppOutput(sink, new SecretRedactor(secrets)),
            loggerFactory.CreateLogger<Supervisor>(), TimeProvider.System);

        var failure = await BootAsync(supervisor).ConfigureAwait(false);
        if (failure is not null)
        {
            if (failure.Traceback is { Length: > 0 } traceback)
            {
                await errors.WriteLineAsync(traceback.TrimEnd()).ConfigureAwait(false);
            }

            return Fail(errors, failure.Summary, failure.ExitCode);
        }

        using var watcher = certificates is null ? null : new CertificateWatcher(certificates, settings.Tls.Certificates, CertificateReloadInterval, loggerFactory.CreateLogger<CertificateWatcher>());
        var served = new ServedCertificates(watcher);
        AcmeService? acme = null;
        if (settings.Tls.AcmeEnabled)
        {
            acme = AcmeService.Create(settings.Tls, Path.Combine(target.WorkingDirectory, SecretsLocation.DefaultDirectory), served, loggerFactory.CreateLogger<AcmeService>(), out var acmeError);
            if (acme is null)
            {
                await supervisor.StopAsync().ConfigureAwait(false);
                return Fail(errors, acmeError!, BootFailure.SpecExitCode);
            }
        }

        await using var acmeLifetime = acme;
        var web = BuildWebApplication(settings, endPoints, tlsEndPoints, served, acme?.TlsAlpn01, loggerFactory, supervisor.RuntimeDirectory);
        var headers = new HeaderPolicy(settings.Headers, settings.Cors);
        var accessLog = new AccessLog(sink);
        var handler = new RequestHandler(settings, dispatcher, supervisor, headers, accessLog, loggerFactory.CreateLogger<RequestHandler>());
        var staticFiles = new StaticFiles(staticSites, headers, accessLog, loggerFactory.CreateLogger<StaticFiles>());
        var app = staticFiles.Wrap(handler.HandleAsync);
        app = tlsEndPoints.Count > 0 ? new HttpsRedirect(tlsEndPoints[0].Port).Wrap(app) : app;
        web.Run(acme is null ? app : acme.Http01.Wrap(app));
        try
        {
            await web.StartAsync().ConfigureAwait(false);
        }
        catch (IOException e)
        {
            await supervisor.StopAsync().ConfigureAwait(false);
            return Fail(errors, $"cannot listen: {e.Message}", BootFailure.SpecExitCode);
        }

        acme?.Start();
        var listening = string.Join(", ", settings.Bind.Concat(settings.Tls.Listen.Select(a => $"https://{a}")));
        LogListening(logger, listening, settings.Workers, settings.Threads, supervisor.Python);
        await web.WaitForShutdownAsync().ConfigureAwait(false);
        LogStopping(logger);
        await supervisor.StopAsync().ConfigureAwait(false);
        await web.DisposeAsync().ConfigureAwait(false);
        LogStopped(logger);
        return 0;
    }

    /// <summary>Boots the pool; SIGTERM or SIGINT while the app is still importing stops it cleanly.</summary>
    private static async Task<BootFailure?> BootAsync(Supervisor supervisor)
    {
        var interrupted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var term = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, c => { c.Cancel = true; interrupted.TrySetResult(); });
        using var interrupt = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGINT, c => { c.Cancel = true; interrupted.TrySetResult(); });
        var boot = supervisor.StartAsync();
        if (await Task.WhenAny(boot, interrupted.Task).ConfigureAwait(false) == boot)
        {
            return await boot.ConfigureAwait(false);
        }

        return new BootFailure("interrupted while the app was loading", null, 130);
    }

    private static WebApplication BuildWebApplication(ServeSettings settings, List<IPEndPoint> endPoints, List<IPEndPoint> tlsEndPoints, ServedCertificates certificates,
        TlsAlpn01Responder? acmeChallenges, ILoggerFactory loggerFactory, string runtimeDirectory)
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { ApplicationName = "tapster" });
        builder.Services.AddSingleton(loggerFactory);
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = settings.GracefulTimeout);
        builder.WebHost.UseKestrelCore();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = settings.MaxBodySize;
            // PEP 3333: header bytes reach the app as latin-1, one char per byte, whatever they are.
            kestrel.RequestHeaderEncodingSelector = _ => Encoding.Latin1;
            kestrel.ResponseHeaderEncodingSelector = _ => Encoding.Latin1;
            // HTTP/1.1, and HTTP/2 for clients that speak it with prior knowledge (h2c).
            var http2 = new CleartextHttp2();
            kestrel.ListenUnixSocket(Path.Combine(runtimeDirectory, "h2.sock"), http2.ConfigureDonor);
            foreach (var endPoint in endPoints)
            {
                kestrel.Listen(endPoint, http2.ConfigurePublic);
            }

            foreach (var endPoint in tlsEndPoints)
            {
                kestrel.Listen(endPoint, listen => TlsListener.Configure(listen, certificates, acmeChallenges));
            }
        });
        return builder.Build();
    }

    private static int Fail(TextWriter errors, string message, int exitCode)
    {
        errors.WriteLine($"tapster: error: {message}");
        return exitCode;
    }

    [LoggerMessage(EventId = 1, EventName = "server.listening", Level = LogLevel.Information, Message = "Tapster listening on {Bind} with {Workers} workers x {Threads} threads (python {Python})")]
    private static partial void LogListening(ILogger logger, string bind, int workers, int threads, string python);

    [LoggerMessage(EventId = 2, EventName = "server.stopping", Level = LogLevel.Information, Message = "Stopping: finishing requests in flight")]
    private static partial void LogStopping(ILogger logger);

    [LoggerMessage(EventId = 3, EventName = "server.stopped", Level = LogLevel.Information, Message = "Stopped")]
    private static partial void LogStopped(ILogger logger);
}

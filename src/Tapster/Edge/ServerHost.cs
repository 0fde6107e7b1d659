using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Net.Http.Headers;
using Tapster.Configuration;
using Tapster.Edge.Compression;
using Tapster.Edge.Headers;
using Tapster.Edge.Limits;
using Tapster.Edge.Proxy;
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

    /// <summary>Kestrel's switch (KestrelServerOptions.DisableHttp1LineFeedTerminatorsSwitchKey, internal) for CRLF-only HTTP/1.</summary>
    private const string BareLineFeedSwitch = "Microsoft.AspNetCore.Server.Kestrel.DisableHttp1LineFeedTerminators";

    /// <summary>
    /// Everything <c>serve</c> checks before any Python starts: the app and its interpreter, the secrets
    /// (key and file), the addresses, the TLS certificates and the static directories. <c>config
    /// check</c> runs the same, so it says OK only where <c>serve</c> would get as far as booting.
    /// </summary>
    /// <exception cref="PreflightException">Something is wrong; the message is the one line to show.</exception>
    internal static ServePlan Prepare(ServeSettings settings, Action<string> warn)
    {
        AppTarget target;
        SecretsLocation secretsLocation;
        IReadOnlyDictionary<string, string> secrets;
        try
        {
            target = AppTarget.Resolve(settings);
            // Secrets go into the workers' environment only; the master key into no child at all.
            secretsLocation = SecretsLocation.Resolve(target.WorkingDirectory);
            secrets = SecretStore.Load(secretsLocation, warn);
        }
        catch (Exception e) when (e is AppSpecException or SecretsException)
        {
            throw new PreflightException(e.Message, e);
        }

        var endPoints = settings.Bind.Select(bind => BindAddress.TryParse(bind, out var endPoint, out var error) ? endPoint! : throw new PreflightException(error!)).ToList();
        // The schema keeps Unix sockets out of tls.listen.
        var tlsEndPoints = settings.Tls.Listen.Select(bind => BindAddress.TryParse(bind, out var endPoint, out var error) ? endPoint! : throw new PreflightException($"tls.listen: {error}")).ToList();

        // Loaded before the workers boot, so a wrong file stops start-up at once (config loading checked
        // them too, but they may have changed since).
        CertificateSet? certificates = null;
        if (settings.Tls.Certificates.Count > 0)
        {
            certificates = CertificateLoader.LoadAll(settings.Tls.Certificates, out var tlsError)
                ?? throw new PreflightException($"tls.certificates: {tlsError}");
            foreach (var problem in certificates.Certificates.Select(c => c.ValidityProblem(DateTime.Now)).OfType<string>())
            {
                warn($"tls.certificates: {problem}; browsers will refuse it");
            }
        }

        var staticSites = StaticSite.OpenAll(settings, out var staticError);
        if (staticError is not null)
        {
            throw new PreflightException(staticError);
        }

        settings = settings with { AppEnvironment = SecretStore.WorkerEnvironment(settings.AppEnvironment, secrets) };
        return new ServePlan(settings, target, secretsLocation, secrets, endPoints, tlsEndPoints, certificates, staticSites);
    }

    /// <param name="configFile">The tapster.toml the settings came from, if any: said at start, with the secrets.</param>
    /// <param name="reloadConfig">Loads the configuration again as at start, for SIGHUP (<see cref="ConfigReload"/>).</param>
    public static async Task<int> RunAsync(ServeSettings settings, string? configFile, Func<ConfigResult> reloadConfig, TextWriter errors)
    {
        ServePlan plan;
        try
        {
            plan = Prepare(settings, warning => errors.WriteLine($"tapster: warning: {warning}"));
        }
        catch (PreflightException e)
        {
            return Fail(errors, e.Message, BootFailure.SpecExitCode);
        }

        (settings, var target, var secretsLocation, var secrets, var endPoints, var tlsEndPoints, var certificates, var staticSites) = plan;
        var allEndPoints = endPoints.Zip(settings.Bind).Concat(tlsEndPoints.Zip(settings.Tls.Listen)).ToList();
        if (BindAddress.ProbeAll(allEndPoints.Where(bind => bind.First is IPEndPoint).Select(bind => ((IPEndPoint)bind.First, bind.Second))) is { } bindError)
        {
            return Fail(errors, bindError, BootFailure.SpecExitCode);
        }

        if (InheritedSockets.Adopt(allEndPoints.Where(bind => bind.First is FileHandleEndPoint).Select(bind => ((FileHandleEndPoint)bind.First, bind.Second))) is { } inheritedError)
        {
            return Fail(errors, inheritedError, BootFailure.SpecExitCode);
        }

        UnixSockets unixSockets;
        try
        {
            unixSockets = UnixSockets.Bind(endPoints.OfType<UnixDomainSocketEndPoint>().Select(unix => unix.ToString()));
        }
        catch (IOException e)
        {
            return Fail(errors, e.Message, BootFailure.SpecExitCode);
        }

        using var unixSocketFiles = unixSockets;

        await using var sink = LogSink.ForStandardOutput();
        using var loggerFactory = LoggerFactory.Create(logging =>
        {
            logging.ClearProviders();
            logging.AddProvider(new SinkLoggerProvider(sink, settings.Log.MinimumLevel));
            logging.AddFilter("Microsoft", (LogLevel)Math.Max((int)LogLevel.Warning, (int)settings.Log.MinimumLevel));
            // With this category enabled at any level, ASP.NET Core starts an Activity (a W3C trace
            // id) and a log scope for every request. It logs nothing Tapster's access line lacks.
            logging.AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.None);
            // The host's errors are a failed start, which ServerHost reports in one line ("cannot
            // listen: ..."), and a failed stop, which it rethrows: its own log of them (a whole stack
            // trace) says nothing more.
            logging.AddFilter("Microsoft.Extensions.Hosting", LogLevel.None);
            logging.AddFilter<KestrelRejections>(KestrelRejections.Category, LogLevel.Debug);
        });
        // Kestrel says why it refused a request only at Debug: every rejection gets a line of its own.
        using var rejections = new KestrelRejections(loggerFactory);
        loggerFactory.AddProvider(rejections);
        var logger = loggerFactory.CreateLogger("Tapster");
        // Before the zygote starts, so that it and the workers inherit the policy.
        if (CpuScheduling.Apply(settings.CpuScheduling) is { } schedulingProblem)
        {
            LogSchedulingRefused(logger, schedulingProblem);
        }

        var dispatcher = new Dispatcher(settings.QueueSize, settings.QueueTimeout, TimeProvider.System);
        var masked = LoggedSecrets(secrets, settings.AppEnvironment);
        var appOutput = new AppOutput(sink, new SecretRedactor(masked));
        await using var supervisor = new Supervisor(settings, target.App, target.Pythons, dispatcher, appOutput,
            loggerFactory.CreateLogger<Supervisor>(), TimeProvider.System);

        LogConfigured(logger, target.WorkingDirectory, configFile is null ? "no config file" : $"config {Path.GetFullPath(configFile)}",
            File.Exists(secretsLocation.SecretsFile) ? $"{secrets.Count} secrets from {secretsLocation.SecretsFile}" : $"no secrets file ({secretsLocation.SecretsFile})");
        // Registered before the boot, so that none of them can kill Tapster while the app loads.
        using var systemd = SystemdNotify.From(ServeSettings.ProcessEnvironment());
        var configReload = new ConfigReload(reloadConfig, settings, secretsLocation, masked, appOutput, loggerFactory.CreateLogger<ConfigReload>());
        supervisor.ReloadSettled += (_, status) => systemd?.Reloaded(status);
        using var signals = new PoolSignals(supervisor, () => configReload.Run(supervisor.Reload, systemd), logger);
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
        var trusted = settings.Proxy.Trusted;
        var proxyProtocol = new ProxyProtocolListener(trusted, settings.Limits.HeaderTimeout, loggerFactory.CreateLogger<ProxyProtocolListener>());
        var web = BuildWebApplication(settings, endPoints, unixSockets, tlsEndPoints, served, acme?.TlsAlpn01, proxyProtocol, loggerFactory, supervisor.RuntimeDirectory);
        var headers = new HeaderPolicy(settings.Headers, settings.Cors);
        var accessLog = new AccessLog(sink, settings.Log);
        var stop = new GracefulStop(settings.GracefulTimeout, logger);
        var handler = new RequestHandler(settings, dispatcher, supervisor, headers, new CompressionPolicy(settings.Compression), accessLog, appOutput, stop, loggerFactory.CreateLogger<RequestHandler>());
        var staticFiles = new StaticFiles(staticSites, headers, accessLog, stop, loggerFactory.CreateLogger<StaticFiles>());
        var refusal = new EdgeRefusal(headers, accessLog);
        await using var rateLimits = new RateLimits(settings.Limits.RateLimits, refusal, loggerFactory.CreateLogger<RateLimits>());
        var app = rateLimits.Wrap(staticFiles.Wrap(handler.HandleAsync));
        if (tlsEndPoints.Count > 0)
        {
            var httpsPort = tlsEndPoints[0] switch
            {
                IPEndPoint ip => ip.Port,
                FileHandleEndPoint inherited => InheritedSockets.LocalPort(inherited) ?? 443,
                _ => 443,
            };
            app = new HttpsRedirect(httpsPort, headers).Wrap(app);
        }

        // The CA's HTTP-01 requests are answered on plain HTTP, before the redirect and the rate limits.
        app = acme is null ? app : acme.Http01.Wrap(app);

        // Before the rest, so they all see the client the proxies name; after the framing check, which
        // refuses what no one should answer.
        app = new ForwardedHeaders(trusted).Wrap(app);
        web.Run(new FramingGuard(refusal, loggerFactory.CreateLogger<FramingGuard>()).Wrap(app));
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
        // What Kestrel bound (a port of 0 is the one it chose), not what was asked; HTTPS keeps its
        // scheme, the internal HTTP/2 socket is left out.
        var listening = string.Join(", ", web.Urls.Where(u => !u.Equals(InternalHttp2Url(supervisor.RuntimeDirectory), StringComparison.Ordinal))
            .Select(u => u.StartsWith("http://", StringComparison.Ordinal) ? u["http://".Length..] : u));
        LogListening(logger, listening, settings.Workers, settings.Threads, supervisor.Python);
        systemd?.Ready($"Listening on {listening} with {settings.Workers} workers x {settings.Threads} threads");
        using var stopping = web.Lifetime.ApplicationStopping.Register(() => systemd?.Stopping());
        StartupTrim.Run();
        await stop.RunAsync(web).ConfigureAwait(false);
        await supervisor.StopAsync().ConfigureAwait(false);
        await web.DisposeAsync().ConfigureAwait(false);
        stop.ReportCutOff();
        LogStopped(logger);
        return 0;
    }

    /// <summary>Boots the pool; SIGTERM or SIGINT while the app is still importing stops it cleanly.</summary>
    private static async Task<BootFailure?> BootAsync(Supervisor supervisor)
    {
        // The shell's convention for the exit code: 128 + the signal's number (143 for SIGTERM, 130 for SIGINT).
        var interrupted = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var term = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, c => { c.Cancel = true; interrupted.TrySetResult(128 + 15); });
        using var interrupt = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGINT, c => { c.Cancel = true; interrupted.TrySetResult(128 + 2); });
        var boot = supervisor.StartAsync();
        if (await Task.WhenAny(boot, interrupted.Task).ConfigureAwait(false) == boot)
        {
            return await boot.ConfigureAwait(false);
        }

        return new BootFailure("interrupted while the app was loading", null, await interrupted.Task.ConfigureAwait(false));
    }

    private static string InternalHttp2Socket(string runtimeDirectory) => Path.Combine(runtimeDirectory, "h2.sock");

    private static string InternalHttp2Url(string runtimeDirectory) => $"http://unix:{InternalHttp2Socket(runtimeDirectory)}";

    private static WebApplication BuildWebApplication(ServeSettings settings, List<EndPoint> endPoints, UnixSockets unixSockets, List<EndPoint> tlsEndPoints, ServedCertificates certificates,
        TlsAlpn01Responder? acmeChallenges, ProxyProtocolListener proxyProtocol, ILoggerFactory loggerFactory, string runtimeDirectory)
    {
        // RFC 9112 2.2 lets a server take a bare LF as a line end, and Kestrel does by default; a proxy in
        // front that reads it as part of a header value would then disagree with Tapster on where headers
        // (and so bodies) end. No real client sends one: refuse them with 400.
        AppContext.SetSwitch(BareLineFeedSwitch, true);
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { ApplicationName = "tapster" });
        builder.Services.AddSingleton(loggerFactory);
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = settings.GracefulTimeout);
        builder.WebHost.UseKestrelCore();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            KestrelLimits.Apply(kestrel.Limits, settings.Limits, settings.BodySizeLimit);
            // PEP 3333: header bytes reach the app as latin-1, one char per byte, whatever they are.
            // Except Content-Length, which must be digits only (ContentLengthEncoding says why).
            kestrel.RequestHeaderEncodingSelector = name => name.Equals(HeaderNames.ContentLength, StringComparison.OrdinalIgnoreCase) ? ContentLengthEncoding.Instance : Encoding.Latin1;
            kestrel.ResponseHeaderEncodingSelector = _ => Encoding.Latin1;
            // HTTP/1.1, and HTTP/2 for clients that speak it with prior knowledge (h2c).
            var http2 = new CleartextHttp2(settings.Limits.HeaderTimeout);
            kestrel.ListenUnixSocket(InternalHttp2Socket(runtimeDirectory), http2.ConfigureDonor);
            // The PROXY header comes before anything else on the wire, so its reader goes first.
            void ProxyProtocolIfListed(ListenOptions listen, string address)
            {
                if (settings.Proxy.ProtocolListeners.Contains(address, StringComparer.Ordinal))
                {
                    proxyProtocol.Configure(listen);
                }
            }

            foreach (var (endPoint, address) in endPoints.Zip(settings.Bind))
            {
                void Configure(ListenOptions listen)
                {
                    ProxyProtocolIfListed(listen, address);
                    http2.ConfigurePublic(listen);
                }

                if (endPoint is UnixDomainSocketEndPoint unix)
                {
                    kestrel.ListenHandle(unixSockets.HandOver(unix.ToString()), Configure);
                }
                else
                {
                    kestrel.Listen(endPoint, Configure);
                }
            }

            foreach (var (endPoint, address) in tlsEndPoints.Zip(settings.Tls.Listen))
            {
                kestrel.Listen(endPoint, listen =>
                {
                    ProxyProtocolIfListed(listen, address);
                    TlsListener.Configure(listen, certificates, acmeChallenges);
                });
            }
        });
        return builder.Build();
    }

    /// <summary>
    /// What the app's output must not show in the log: the <c>tapster secrets</c> values, and environment
    /// values that look secret (X_FILE contents, DB_PASSWORD, URLs with a password). Those need 8
    /// characters at least: AUTH_ENABLED=true must not mask every "true" in the log.
    /// </summary>
    internal static Dictionary<string, string> LoggedSecrets(IReadOnlyDictionary<string, string> secrets, IReadOnlyDictionary<string, string> environment)
    {
        var logged = environment.Where(e => e.Value.Length >= 8 && AppEnvironmentBuilder.LooksSecret(e.Key, e.Value)).ToDictionary(StringComparer.Ordinal);
        foreach (var (name, value) in secrets)
        {
            logged[name] = value;
        }

        return logged;
    }

    private static int Fail(TextWriter errors, string message, int exitCode)
    {
        errors.WriteLine(Tapster.Cli.CliError.Line(message));
        return exitCode;
    }

    [LoggerMessage(EventId = 1, EventName = "server.listening", Level = LogLevel.Information, Message = "Tapster listening on {Bind} with {Workers} workers x {Threads} threads (python {Python})")]
    private static partial void LogListening(ILogger logger, string bind, int workers, int threads, string python);

    [LoggerMessage(EventId = 5, EventName = "server.configured", Level = LogLevel.Information, Message = "Working directory {Directory}; {Config}; {Secrets}")]
    private static partial void LogConfigured(ILogger logger, string directory, string config, string secrets);

    [LoggerMessage(EventId = 7, EventName = "server.cpu_scheduling_refused", Level = LogLevel.Warning, Message = "{Problem}")]
    private static partial void LogSchedulingRefused(ILogger logger, string problem);

    [LoggerMessage(EventId = 3, EventName = "server.stopped", Level = LogLevel.Information, Message = "Stopped")]
    private static partial void LogStopped(ILogger logger);
}

/// <summary>What <see cref="ServerHost.Prepare"/> resolved: the settings with the secrets in the app's environment, and the rest serve needs.</summary>
internal sealed record ServePlan(
    ServeSettings Settings, AppTarget Target, SecretsLocation SecretsLocation, IReadOnlyDictionary<string, string> Secrets, List<EndPoint> EndPoints, List<EndPoint> TlsEndPoints,
    CertificateSet? Certificates, StaticSite[] StaticSites);

/// <summary>serve cannot start with these settings; the message is the one line the user sees.</summary>
internal sealed class PreflightException : Exception
{
    public PreflightException(string message)
        : base(message)
    {
    }

    public PreflightException()
    {
    }

    public PreflightException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

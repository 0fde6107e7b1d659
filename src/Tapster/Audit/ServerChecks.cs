using System.Globalization;
using System.Net;
using Tapster.Configuration;
using Tapster.Edge;

namespace Tapster.Audit;

/// <summary>Grades how Tapster itself would run the app: the user, the addresses, the pool's size and timeouts.</summary>
internal static class ServerChecks
{
    private const int MaxThreads = 32;

    /// <summary>Past this, a slow dependency holds requests long after clients and proxies gave up.</summary>
    private static readonly TimeSpan LongestTimeout = TimeSpan.FromSeconds(120);

    /// <summary>Below this, ordinary slow pages (a report, a cold cache) get 504 and their worker killed.</summary>
    private static readonly TimeSpan ShortestTimeout = TimeSpan.FromSeconds(5);

    public static IEnumerable<CheckResult> Evaluate(ServeSettings settings, int cores, bool runningAsRoot)
    {
        var exposed = settings.Bind.Where(IsPublic).ToList();
        yield return User(runningAsRoot, exposed);
        yield return Tls(exposed, settings.Tls.Listen);
        yield return Workers(settings.Workers, cores);
        yield return settings.Threads > MaxThreads
            ? new CheckResult("threads", CheckStatus.Warn, "Threads per worker", $"{N(settings.Threads)} threads per worker: the GIL lets one run Python at a time, the rest only add memory and contention",
                $"use --threads {N(MaxThreads)} or fewer, and more workers if you need more concurrency")
            : CheckResult.Pass("threads", "Threads per worker", $"{N(settings.Threads)} per worker");
        yield return Timeout(settings.Timeout);
    }

    /// <summary>
    /// Anything but loopback and Unix sockets: 0.0.0.0, ::, a LAN or a public address, and a socket systemd
    /// passes (fd://N), whose address only the unit knows and which is there to serve the world.
    /// </summary>
    public static bool IsPublic(string bind) =>
        BindAddress.TryParse(bind, out var endPoint, out _)
        && (endPoint is Microsoft.AspNetCore.Connections.FileHandleEndPoint || (endPoint is IPEndPoint ip && !IPAddress.IsLoopback(ip.Address)));

    private static CheckResult User(bool runningAsRoot, List<string> exposed)
    {
        const string Id = "root-user", Title = "User";
        const string Fix = "run Tapster as an unprivileged user (systemd User=, a container's USER); a port below 1024 needs only CAP_NET_BIND_SERVICE";
        if (!runningAsRoot)
        {
            return CheckResult.Pass(Id, Title, $"running as {Environment.UserName}, not root");
        }

        return exposed.Count > 0
            ? new CheckResult(Id, CheckStatus.Fail, Title, $"running as root while listening on {string.Join(", ", exposed)}: a hole in the app is a root shell for anyone who can reach it", Fix)
            : new CheckResult(Id, CheckStatus.Warn, Title, "running as root: a hole in the app is a hole in the whole machine", Fix);
    }

    private static CheckResult Tls(List<string> exposed, IReadOnlyList<string> https) =>
        https.Count > 0 ? CheckResult.Pass("tls", "TLS", exposed.Count == 0
                ? $"HTTPS on {string.Join(", ", https)}"
                : $"HTTPS on {string.Join(", ", https)}; plain HTTP on {string.Join(", ", exposed)} only redirects to it")
        : exposed.Count == 0 ? CheckResult.Pass("tls", "TLS", "listening on loopback only: TLS is the proxy's job")
        : new CheckResult("tls", CheckStatus.Warn, "TLS", $"{string.Join(", ", exposed)} is reachable from other machines and serves plain HTTP",
            "serve HTTPS too: --tls-bind 0.0.0.0:443 with --acme-domain NAME (automatic certificates) or --tls-cert CERT=KEY; or terminate TLS in a proxy in front and bind Tapster to 127.0.0.1");

    private static CheckResult Workers(int workers, int cores)
    {
        const string Id = "workers", Title = "Workers";
        if (workers < 2)
        {
            return new CheckResult(Id, CheckStatus.Warn, Title, $"{N(workers)} worker: while it is replaced after a crash or a timeout, nothing serves",
                $"use at least 2 workers (the default is 2 x cores + 1 = {N((2 * cores) + 1)})");
        }

        return workers > 4 * cores
            ? new CheckResult(Id, CheckStatus.Warn, Title, $"{N(workers)} workers on {N(cores)} cores: they compete for CPU and each holds the app in memory",
                $"use at most {N(4 * cores)} (4 x cores); the default is 2 x cores + 1 = {N((2 * cores) + 1)}")
            : CheckResult.Pass(Id, Title, $"{N(workers)} workers on {N(cores)} cores");
    }

    private static CheckResult Timeout(TimeSpan timeout)
    {
        const string Id = "timeout", Title = "Request timeout";
        var seconds = timeout.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture);
        if (timeout > LongestTimeout)
        {
            return new CheckResult(Id, CheckStatus.Warn, Title, $"{seconds}s: a stuck request holds a worker slot long after the client and proxies gave up",
                "use --timeout 120s or less and move long jobs to a task queue");
        }

        return timeout < ShortestTimeout
            ? new CheckResult(Id, CheckStatus.Warn, Title, $"{seconds}s: ordinary slow pages would get 504 and their worker killed",
                "use --timeout 5s or more (the default is 30s)")
            : CheckResult.Pass(Id, Title, $"{seconds}s");
    }

    private static string N(int value) => value.ToString(CultureInfo.InvariantCulture);
}

using Tapster.Edge.Compression;
using Tapster.Edge.Headers;
using Tapster.Edge.Limits;
using Tapster.Edge.Proxy;
using Tapster.Edge.Static;
using Tapster.Telemetry;
using Tapster.Tls;

namespace Tapster.Configuration;

/// <summary>
/// Everything <c>tapster serve</c> runs with: immutable, validated once at start-up. Each default says
/// where it comes from.
/// </summary>
internal sealed record ServeSettings
{
    /// <summary>The APP argument as given: module:callable, module:factory(), a .py file or a directory.</summary>
    public required string App { get; init; }

    /// <summary>Gunicorn's default bind: loopback only, so nothing is public by accident.</summary>
    public IReadOnlyList<string> Bind { get; init; } = ["127.0.0.1:8000"];

    /// <summary>Gunicorn's recommended (2 x cores) + 1.</summary>
    public int Workers { get; init; } = (2 * Environment.ProcessorCount) + 1;

    /// <summary>
    /// Slots per worker. Four, not Gunicorn's one: a slow request (an API call, a sleep) then holds one
    /// thread instead of a whole process, and the fast pages keep flowing beside it.
    /// </summary>
    public int Threads { get; init; } = 4;

    /// <summary>Gunicorn's default worker timeout.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long the app may take to load. Gunicorn applies its request timeout here too; a separate
    /// setting lets a slow import (a big Django project on a cold disk) coexist with a short request timeout.
    /// </summary>
    public TimeSpan BootTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Gunicorn's default graceful timeout.</summary>
    public TimeSpan GracefulTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>0 = never recycle (Gunicorn's default).</summary>
    public int MaxRequests { get; init; }

    public int MaxRequestsJitter { get; init; }

    /// <summary>Private memory past which a worker is recycled gracefully, in bytes; 0 = no limit (Gunicorn has none).</summary>
    public long MaxMemory { get; init; }

    /// <summary>An explicit interpreter; null = look for the app's venv, then python3 on PATH, then /usr/bin/python3.</summary>
    public string? Python { get; init; }

    public string? Chdir { get; init; }

    public bool Preload { get; init; } = true;

    /// <summary>The CPU policy of the server and its workers: <see cref="CpuScheduling.Batch"/> or <see cref="CpuScheduling.Inherit"/>.</summary>
    public string CpuScheduling { get; init; } = Tapster.CpuScheduling.Batch;

    /// <summary>The mount prefix given to the app as SCRIPT_NAME; empty = mounted at the root.</summary>
    public string ScriptName { get; init; } = "";

    /// <summary>Requests waiting for a free worker slot before new ones get 503 at once.</summary>
    public int QueueSize { get; init; } = 1024;

    /// <summary>How long a request may wait for a slot before it gets 503.</summary>
    public TimeSpan QueueTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Matches nginx's client_max_body_size order of magnitude for apps taking uploads; 413 above; 0 = no limit, as in nginx.</summary>
    public long MaxBodySize { get; init; } = 100L * 1024 * 1024;

    /// <summary><see cref="MaxBodySize"/> as the server applies it: null for no limit.</summary>
    public long? BodySizeLimit => MaxBodySize == 0 ? null : MaxBodySize;

    /// <summary>
    /// None: a .env file is read only when the config names it, so a stray one left in a production
    /// checkout changes nothing.
    /// </summary>
    public IReadOnlyList<string> EnvFiles { get; init; } = [];

    /// <summary>
    /// The app's whole environment. Default: Tapster's own, as every process manager passes it on; the
    /// loader adds the .env files and [env], then resolves NAME_FILE secrets.
    /// </summary>
    public IReadOnlyDictionary<string, string> AppEnvironment { get; init; } = ProcessEnvironment();

    /// <summary>[headers]: the security headers and cookie attributes added at the edge.</summary>
    public HeaderSettings Headers { get; init; } = new();

    /// <summary>[cors]: no origin allowed by default, so OPTIONS reaches the app as it always did.</summary>
    public CorsSettings Cors { get; init; } = new();

    /// <summary>[compression]: Brotli and gzip for the app's text responses.</summary>
    public CompressionSettings Compression { get; init; } = new();

    /// <summary>[log]: Tapster's events from info up, and an access line for every request.</summary>
    public LogSettings Log { get; init; } = new();

    /// <summary>[static]: none, so every request reaches the app unless the config says otherwise.</summary>
    public IReadOnlyList<StaticMount> StaticMounts { get; init; } = [];

    public string StaticCacheControl { get; init; } = StaticConfig.DefaultCacheControl;

    /// <summary>Off, as nginx's usual `location ~ /\.` deny: a stray .env or .git must not be served.</summary>
    public bool StaticDotfiles { get; init; }

    /// <summary>[limits]: what one client may cost; each default says where it comes from.</summary>
    public LimitSettings Limits { get; init; } = new();

    /// <summary>[proxy]: no proxy trusted, no PROXY protocol listener.</summary>
    public ProxySettings Proxy { get; init; } = new();

    /// <summary>[tls]: no HTTPS listener until the config gives addresses and certificates.</summary>
    public TlsSettings Tls { get; init; } = new();

    /// <summary>Bodies up to this stay in memory and travel inline; larger ones are spooled to a file.</summary>
    public int SpoolThreshold { get; init; } = 1024 * 1024;

    public static Dictionary<string, string> ProcessEnvironment() =>
        Environment.GetEnvironmentVariables().Cast<System.Collections.DictionaryEntry>()
            .ToDictionary(e => (string)e.Key, e => (string?)e.Value ?? "", StringComparer.Ordinal);
}

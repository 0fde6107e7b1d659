namespace Tapster.Edge.Limits;

/// <summary>
/// <c>[limits]</c>: what one client may cost before Tapster refuses it. Each default says where it comes
/// from; all of them are enforced before any worker is involved.
/// </summary>
internal sealed record LimitSettings
{
    /// <summary>Kestrel's and nginx's 8 KiB (large_client_header_buffers): longer gets 414.</summary>
    public long MaxRequestLine { get; init; } = 8 * 1024;

    /// <summary>All header lines together: Kestrel's 32 KiB, nginx's 4 x 8 KiB. Larger gets 431.</summary>
    public long MaxHeaderSize { get; init; } = 32 * 1024;

    /// <summary>Gunicorn's limit_request_fields and Kestrel's MaxRequestHeaderCount. More gets 431.</summary>
    public int MaxHeaders { get; init; } = 100;

    /// <summary>
    /// Time to send the whole request head. Slowloris holds connections by trickling it; a real client
    /// sends it in one round trip, so 10 s (nginx 60 s, Kestrel 30 s) is generous and frees a stalled
    /// connection's memory three times sooner than Kestrel would.
    /// </summary>
    public TimeSpan HeaderTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// nginx's 75 s: longer than the 60 s idle timeout of the usual load balancers (AWS ALB, GCP), so the
    /// balancer closes an idle connection first and never sends a request into one being closed.
    /// </summary>
    public TimeSpan KeepAliveTimeout { get; init; } = TimeSpan.FromSeconds(75);

    /// <summary>
    /// nginx's send_timeout: how long a client may take nothing of a response Tapster holds for it
    /// before its connection is closed. Kestrel's minimum data rate allows bytes/240 s per write and
    /// does not see a stalled HTTP/2 stream at all; a reader that stops would otherwise keep its
    /// spooled response (up to 1 GiB of disk) for as long as its connection lives.
    /// </summary>
    public TimeSpan SendTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Bytes of a response its client is slow to take that are held in memory before the spool file.</summary>
    public long ResponseBufferSize { get; init; } = ResponseSpool.MemoryLimit;

    /// <summary>Bytes the spool file may hold unread before the worker waits for the client; 0 = no file.</summary>
    public long ResponseSpoolMax { get; init; } = ResponseSpool.FileLimit;

    /// <summary>
    /// Bytes per second a client must keep up while sending a body and while reading a response, after
    /// <see cref="DataRateGrace"/>: Kestrel's 240 B/s (a 2G phone does more). Below it the connection is
    /// closed, so a slow POST or a client that stops reading cannot pin memory or a worker. 0 = no minimum.
    /// </summary>
    public long MinDataRate { get; init; } = 240;

    /// <summary>Kestrel's 5 s: how long a transfer may start slowly before the rate counts.</summary>
    public TimeSpan DataRateGrace { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Open client connections; past it a new one is closed at once. 10,000 keeps a flood within memory
    /// and file descriptors (Debian's nginx allows 768 per worker process); 0 = no limit.
    /// </summary>
    public int MaxConnections { get; init; } = 10_000;

    /// <summary>Per-prefix token buckets; none by default.</summary>
    public IReadOnlyList<RateLimitRule> RateLimits { get; init; } = [];
}

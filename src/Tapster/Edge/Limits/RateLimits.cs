using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Tapster.Edge.Limits;

/// <summary>
/// Per-client rate limiting at the edge: the rule with the longest prefix matching the path picks the
/// bucket; an empty bucket gets 429 with Retry-After, and neither a worker nor the static files see
/// the request. Buckets live in .NET's partitioned token-bucket limiter, which refills them every
/// 100 ms and drops those idle for 10 s, so memory follows the clients seen recently.
/// </summary>
internal sealed partial class RateLimits : IAsyncDisposable
{
    private readonly (RateLimitRule Rule, PartitionedRateLimiter<string> Buckets)[] _rules;
    private readonly EdgeRefusal _refusal;
    private readonly ILogger _logger;

    public RateLimits(IReadOnlyList<RateLimitRule> rules, EdgeRefusal refusal, ILogger<RateLimits> logger)
    {
        _rules = [.. rules.OrderByDescending(r => r.Prefix.Length).Select(rule => (rule, Buckets(rule)))];
        _refusal = refusal;
        _logger = logger;
    }

    public RequestDelegate Wrap(RequestDelegate next) => _rules.Length == 0 ? next : context =>
    {
        if (Match(context.Request.Path.Value ?? "/", RoutedPath.Of(context)) is not { } match)
        {
            return next(context);
        }

        using var lease = match.Buckets.AttemptAcquire(ClientKey(match.Rule, context));
        return lease.IsAcquired ? next(context) : RefuseAsync(context, match.Rule, lease);
    };

    public async ValueTask DisposeAsync()
    {
        foreach (var (_, buckets) in _rules)
        {
            await buckets.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>
    /// The bucket's owner: the header's value when the rule names one and the request has it, else the
    /// client address; an IPv6 client by its /64, the block one host is given and can rotate within.
    /// </summary>
    internal static string ClientKey(RateLimitRule rule, HttpContext context)
    {
        if (rule.Header is not null && context.Request.Headers[rule.Header] is { Count: > 0 } value)
        {
            // The client writes this key: a long one is kept as its hash, so that a flood of 30 KB keys
            // costs a bucket each, not 30 KB each.
            var key = value.ToString();
            return key.Length <= MaxKeyLength ? "key " + key : "key#" + Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(key)));
        }

        return "ip " + AddressKey(context.Connection.RemoteIpAddress);
    }

    internal static string AddressKey(IPAddress? address)
    {
        if (address is null)
        {
            return "";
        }

        if (address.IsIPv4MappedToIPv6)
        {
            return address.MapToIPv4().ToString();
        }

        if (address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return address.ToString();
        }

        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out _);
        bytes[8..].Clear();
        return new IPAddress(bytes).ToString() + "/64";
    }

    /// <summary>Longest header key kept as it is; longer ones are hashed (44 characters).</summary>
    private const int MaxKeyLength = 64;

    /// <summary>The longest rule covering either path: Kestrel's, or the one the app will route on.</summary>
    private (RateLimitRule Rule, PartitionedRateLimiter<string> Buckets)? Match(string path, string appPath)
    {
        foreach (var rule in _rules)
        {
            if (PathPrefix.Covers(path, rule.Rule.Prefix) || PathPrefix.Covers(appPath, rule.Rule.Prefix))
            {
                return rule;
            }
        }

        return null;
    }

    private static PartitionedRateLimiter<string> Buckets(RateLimitRule rule) =>
        PartitionedRateLimiter.Create<string, string>(key => RateLimitPartition.GetTokenBucketLimiter(key, _ => new TokenBucketRateLimiterOptions
        {
            TokenLimit = rule.Burst,
            // One token at a time, so the Retry-After the limiter computes is the wait for the next one.
            TokensPerPeriod = 1,
            ReplenishmentPeriod = rule.Period / rule.Requests,
            QueueLimit = 0,
            // The partitioned limiter's own 100 ms heartbeat refills every bucket: one timer, not one per client.
            AutoReplenishment = false,
        }));

    private Task RefuseAsync(HttpContext context, RateLimitRule rule, RateLimitLease lease)
    {
        var wait = lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter) ? retryAfter : rule.Period / rule.Requests;
        LogLimited(_logger, context.Request.Path.Value, AddressKey(context.Connection.RemoteIpAddress), rule.Rate, rule.Prefix);
        context.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        return _refusal.SendAsync(context, StatusCodes.Status429TooManyRequests, "Too Many Requests\n", close: false);
    }

    [LoggerMessage(EventId = 400, EventName = "request.rate_limited", Level = LogLevel.Warning, Message = "429 for {Path}: client {Client} is over {Rate} on {Prefix}")]
    private static partial void LogLimited(ILogger logger, string? path, string client, string rate, string prefix);
}

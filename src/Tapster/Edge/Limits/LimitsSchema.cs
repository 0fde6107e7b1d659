using System.Globalization;
using Tapster.Configuration;
using Tapster.Edge.Headers;
using Tomlyn.Syntax;

namespace Tapster.Edge.Limits;

/// <summary>The <c>[limits]</c> entries of <see cref="SettingsSchema"/>.</summary>
internal static class LimitsSchema
{
    private const string RuleShape = "an array of { prefix = \"/api\", rate = \"10/s\", burst = 20, by = \"ip\" } tables";

    // The parser comes first: static initializers run in order, and Settings uses it.
    private static ValueParser<IReadOnlyList<RateLimitRule>> RulesParser { get; } = new()
    {
        TypeName = "array of { prefix, rate, burst, by } tables",
        HelpName = "PREFIX=RATE",
        Shape = CliShape.List,
        FromText = ParseFlag,
        FromToml = (value, _) => ParseToml(value),
        Format = rules => "[" + string.Join(", ", rules.Select(r =>
            $"{{ prefix = {ValueParsers.Quote(r.Prefix)}, rate = \"{r.Rate}\", burst = {r.Burst.ToString(CultureInfo.InvariantCulture)}, by = {ValueParsers.Quote(r.By)} }}")) + "]",
    };

    public static IReadOnlyList<Setting> Settings { get; } =
    [
        new TypedSetting<long>
        {
            Key = "limits.max_body_size", Flag = "--max-body-size", Parser = ValueParsers.Size, TextParser = ValueParsers.SizeInMiB,
            Doc = "Largest request body; larger gets 413 before any worker sees it. 0 = no limit (as nginx's client_max_body_size 0). In the file a plain number is bytes; on the flag and in the environment it is MiB (--max-body-size 50), and units work everywhere.",
            Get = s => s.MaxBodySize, Set = (s, v) => s with { MaxBodySize = v },
        },
        Limit("limits.max_request_line", ValueParsers.Size,
            "Longest request line (method, target, version); longer gets 414. Kestrel's and nginx's 8 KiB.",
            l => l.MaxRequestLine, (l, v) => l with { MaxRequestLine = v }, HeaderBytes, "--limit-request-line"),
        Limit("limits.max_header_size", ValueParsers.Size,
            "All request header lines together; larger gets 431. Kestrel's 32 KiB (nginx: 4 x 8 KiB).",
            l => l.MaxHeaderSize, (l, v) => l with { MaxHeaderSize = v }, HeaderBytes),
        Limit("limits.max_headers", ValueParsers.WholeNumber,
            "Most request header lines; more gets 431. Gunicorn's limit_request_fields and Kestrel's 100.",
            l => l.MaxHeaders, (l, v) => l with { MaxHeaders = v }, v => v < 1 ? "must be at least 1" : null, "--limit-request-fields"),
        Limit("limits.header_timeout", ValueParsers.Duration,
            "Time a client has to send the whole request head; then 408 and the connection is closed (slowloris). A real client needs one round trip; nginx allows 60 s, Kestrel 30 s.",
            l => l.HeaderTimeout, (l, v) => l with { HeaderTimeout = v }, flag: "--header-timeout"),
        Limit("limits.keepalive_timeout", ValueParsers.Duration,
            "How long an idle keep-alive connection stays open. nginx's 75 s: longer than the 60 s of common load balancers, so they close idle connections first.",
            l => l.KeepAliveTimeout, (l, v) => l with { KeepAliveTimeout = v }, flag: "--keep-alive"),
        Limit("limits.send_timeout", ValueParsers.Duration,
            "How long a client may take nothing of a response it is slow to read (held by Tapster, so the worker moved on) before its connection is closed. nginx's send_timeout, 60 s.",
            l => l.SendTimeout, (l, v) => l with { SendTimeout = v }, v => v <= TimeSpan.Zero ? "must be more than 0" : null),
        Limit("limits.response_buffer_size", ValueParsers.Size,
            "Bytes of a response its client is slow to take that Tapster holds in memory, so that the worker moves on to the next request; more goes to a temporary file (response_spool_max). Most pages fit in the default; nginx buffers 64 KiB in memory (proxy_buffers) before its temporary file.",
            l => l.ResponseBufferSize, (l, v) => l with { ResponseBufferSize = v }, v => v > MaxResponseBuffer ? $"must be at most {MaxResponseBuffer / (1024 * 1024)} MiB (larger belongs in the file)" : null),
        Limit("limits.response_spool_max", ValueParsers.Size,
            "Bytes of such a response a temporary file (unlinked, in Tapster's private runtime directory) may hold unread; past it the worker waits for the client after all. 0 = no file: a slow client holds its worker once the memory buffer is full. nginx's proxy_max_temp_file_size, 1 GiB.",
            l => l.ResponseSpoolMax, (l, v) => l with { ResponseSpoolMax = v }),
        Limit("limits.min_data_rate", ValueParsers.Size,
            "Bytes per second a client must keep up while sending a body and while reading a response, after data_rate_grace; slower, the connection is closed (slow POST, a reader that stalls). 0 = no minimum. Kestrel's 240.",
            l => l.MinDataRate, (l, v) => l with { MinDataRate = v }),
        Limit("limits.data_rate_grace", ValueParsers.Duration,
            "How long a body or response may start slowly before min_data_rate counts. Kestrel's 5 s.",
            l => l.DataRateGrace, (l, v) => l with { DataRateGrace = v },
            v => v <= TimeSpan.FromSeconds(1) ? "must be longer than 1s (rates are measured once a second)" : null),
        new TypedSetting<int>
        {
            Key = "limits.max_connections", Flag = "--max-connections", Parser = ValueParsers.WholeNumber,
            Doc = "Open client connections; past it, a new connection is closed at once. Bounds memory and file descriptors under a flood (Debian's nginx: 768 per worker process). 0 = no limit.",
            Get = s => s.Limits.MaxConnections, Set = (s, v) => s with { Limits = s.Limits with { MaxConnections = v } },
        },
        new TypedSetting<IReadOnlyList<RateLimitRule>>
        {
            Key = "limits.rate", Flag = "--rate-limit", Placeholder = "PREFIX=RATE", Parser = RulesParser,
            Doc = "Per-client rate limits: token buckets per URL prefix, `[{ prefix = \"/login\", rate = \"10/m\", burst = 5 }]`, or one `[[limits.rate]]` table per rule. rate is N/s, N/m or N/h; burst (default: N) is how many may come at once; by is \"ip\" (IPv6 clients by their /64) or \"header:NAME\" (an API key; clients without it by IP). The longest matching prefix applies; over it, 429 with Retry-After, before static files and workers. The flag repeats (`--rate-limit /login=10/m`); its environment twin is comma-separated.",
            DefaultDoc = "`[]` (no limit)",
            Check = OnePerPrefix,
            Get = s => s.Limits.RateLimits, Set = (s, v) => s with { Limits = s.Limits with { RateLimits = v } },
        },
    ];

    private static TypedSetting<T> Limit<T>(string key, ValueParser<T> parser, string doc, Func<LimitSettings, T> get, Func<LimitSettings, T, LimitSettings> set,
        Func<T, string?>? check = null, string? flag = null) => new()
    {
        Key = key, Flag = flag, Parser = parser, Doc = doc,
        Check = check ?? (_ => null),
        Get = s => get(s.Limits), Set = (s, v) => s with { Limits = set(s.Limits, v) },
    };

    /// <summary>Header limits: below 1 KiB no browser gets through; above 1 MiB they stop limiting anything.</summary>
    /// <summary>Memory per slow client: a larger buffer belongs in the file.</summary>
    private const long MaxResponseBuffer = 64L * 1024 * 1024;

    private static string? HeaderBytes(long value) =>
        value is < 1024 or > 1024 * 1024 ? $"must be between 1KiB and 1MiB, got {ByteSize.Format(value)}" : null;

    private static Parsed<IReadOnlyList<RateLimitRule>> ParseFlag(string text)
    {
        var rules = new List<RateLimitRule>();
        foreach (var item in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var equals = item.LastIndexOf('=');
            if (equals <= 0)
            {
                return Parsed<IReadOnlyList<RateLimitRule>>.Fail($"'{item}' must be PREFIX=RATE (/login=10/m)");
            }

            var rule = Rule(item[..equals], item[(equals + 1)..], burst: null, by: null);
            if (rule.Error is not null)
            {
                return Parsed<IReadOnlyList<RateLimitRule>>.Fail(rule.Error);
            }

            rules.Add(rule.Value);
        }

        return Parsed<IReadOnlyList<RateLimitRule>>.Ok(rules);
    }

    private static Parsed<IReadOnlyList<RateLimitRule>> ParseToml(ValueSyntax value)
    {
        if (value is not ArraySyntax array)
        {
            return Parsed<IReadOnlyList<RateLimitRule>>.Fail($"must be {RuleShape}, got {ValueParsers.Describe(value)}");
        }

        var rules = new List<RateLimitRule>();
        foreach (var item in array.Items)
        {
            if (item.Value is not InlineTableSyntax table)
            {
                return Parsed<IReadOnlyList<RateLimitRule>>.Fail($"must be {RuleShape}, but one item is {ValueParsers.Describe(item.Value!)}");
            }

            string? prefix = null, rate = null, by = null;
            long? burst = null;
            foreach (var entry in table.Items.Select(i => i.KeyValue!))
            {
                var name = ConfigFile.KeyPath(entry.Key!);
                switch (name, entry.Value)
                {
                    case ("prefix", StringValueSyntax s): prefix = s.Value; break;
                    case ("rate", StringValueSyntax s): rate = s.Value; break;
                    case ("by", StringValueSyntax s): by = s.Value; break;
                    case ("burst", IntegerValueSyntax i): burst = i.Value; break;
                    default:
                        return Parsed<IReadOnlyList<RateLimitRule>>.Fail($"entries take prefix = \"/api\", rate = \"10/s\", burst = N and by = \"ip\" or \"header:NAME\", got {name} = {ValueParsers.Describe(entry.Value!)}");
                }
            }

            if (prefix is null || rate is null)
            {
                return Parsed<IReadOnlyList<RateLimitRule>>.Fail("entries need prefix and rate (for example { prefix = \"/login\", rate = \"10/m\" })");
            }

            var rule = Rule(prefix, rate, burst, by);
            if (rule.Error is not null)
            {
                return Parsed<IReadOnlyList<RateLimitRule>>.Fail(rule.Error);
            }

            rules.Add(rule.Value);
        }

        return OnePerPrefix(rules) is { } duplicate ? Parsed<IReadOnlyList<RateLimitRule>>.Fail(duplicate) : Parsed<IReadOnlyList<RateLimitRule>>.Ok(rules);
    }

    /// <summary>Two rules for one prefix, from the file, repeated flags or the variable: which would win is a guess.</summary>
    private static string? OnePerPrefix(IReadOnlyList<RateLimitRule> rules) =>
        rules.GroupBy(r => r.Prefix).FirstOrDefault(g => g.Count() > 1) is { } duplicate ? $"prefix '{duplicate.Key}' has two rules; keep one" : null;

    private static Parsed<RateLimitRule> Rule(string prefix, string rate, long? burst, string? by)
    {
        if (!prefix.StartsWith('/') || prefix.Contains('?', StringComparison.Ordinal) || prefix.Contains('#', StringComparison.Ordinal))
        {
            return Parsed<RateLimitRule>.Fail($"prefix '{prefix}' must be a URL path starting with '/' (/api)");
        }

        if (!RateLimitRule.TryParseRate(rate, out var requests, out var period))
        {
            return Parsed<RateLimitRule>.Fail($"rate '{rate}' must be N/s, N/m or N/h with N at least 1 (10/s, 600/m)");
        }

        if (burst is < 1 or > int.MaxValue)
        {
            return Parsed<RateLimitRule>.Fail($"burst {burst} must be at least 1");
        }

        string? header = null;
        if (by is not null and not "ip")
        {
            header = by.StartsWith("header:", StringComparison.Ordinal) ? by["header:".Length..].Trim() : null;
            if (header is null || !HttpToken.IsValid(header))
            {
                return Parsed<RateLimitRule>.Fail($"by '{by}' must be \"ip\" or \"header:NAME\" (header:X-API-Key)");
            }
        }

        return Parsed<RateLimitRule>.Ok(new RateLimitRule(prefix, requests, period, (int?)burst ?? requests, header));
    }
}

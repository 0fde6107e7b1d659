using Tapster.Configuration;
using Tomlyn.Syntax;

namespace Tapster.Edge.Headers;

/// <summary>The <c>[headers]</c> and <c>[cors]</c> entries of <see cref="SettingsSchema"/>.</summary>
internal static class HeaderSchema
{
    private const string SameSiteChoices = "\"Strict\", \"Lax\", \"None\", or false";

    private static readonly string[] SameSiteValues = ["Strict", "Lax", "None"];

    // The parsers come first: static initializers run in order, and Settings uses them.
    /// <summary>A header value, or <c>false</c> (or "") for no header; CR, LF and other controls would split the response.</summary>
    private static ValueParser<string> HeaderText { get; } = new()
    {
        TypeName = "string or false",
        HelpName = "TEXT",
        FromText = ParseHeaderText,
        FromToml = (value, _) => value switch
        {
            StringValueSyntax s => ParseHeaderText(s.Value!),
            BooleanValueSyntax { Value: false } => Parsed<string>.Ok(""),
            _ => Parsed<string>.Fail($"must be a header value or false (no header), got {ValueParsers.Describe(value)}"),
        },
        Format = text => text.Length == 0 ? "false" : ValueParsers.Quote(text),
    };

    private static ValueParser<string> SameSite { get; } = new()
    {
        TypeName = "\"Strict\", \"Lax\", \"None\" or false",
        HelpName = "TEXT",
        FromText = ParseSameSite,
        FromToml = (value, _) => value switch
        {
            StringValueSyntax s => ParseSameSite(s.Value!),
            BooleanValueSyntax { Value: false } => Parsed<string>.Ok(""),
            _ => Parsed<string>.Fail($"must be {SameSiteChoices}, got {ValueParsers.Describe(value)}"),
        },
        Format = HeaderText.Format,
    };

    public static IReadOnlyList<Setting> Settings { get; } =
    [
        new TypedSetting<bool>
        {
            Key = "headers.enabled", Flag = "--no-security-headers", Parser = ValueParsers.Boolean, TextParser = ValueParsers.NegatedBoolean,
            Doc = "Add the security headers below to every response (the app's and Tapster's own 413/502/503/504) unless the app set the same header. `enabled = false`, or the flag --no-security-headers, sends none of them; the cookie attributes have their own settings.",
            FlagDoc = "Send none of the security headers Tapster adds by default (HSTS on HTTPS, X-Content-Type-Options, X-Frame-Options, Referrer-Policy, Permissions-Policy; see docs/headers.md). The cookie attributes have their own settings. Off by default.",
            Get = s => s.Headers.Enabled, Set = (s, v) => s with { Headers = s.Headers with { Enabled = v } },
        },
        HeaderValue("headers.strict_transport_security", "Strict-Transport-Security, sent only on HTTPS requests (a plain-HTTP answer cannot set it).",
            h => h.StrictTransportSecurity, (h, v) => h with { StrictTransportSecurity = v }),
        HeaderValue("headers.x_content_type_options", "X-Content-Type-Options.", h => h.ContentTypeOptions, (h, v) => h with { ContentTypeOptions = v }),
        HeaderValue("headers.x_frame_options", "X-Frame-Options.", h => h.FrameOptions, (h, v) => h with { FrameOptions = v }),
        HeaderValue("headers.referrer_policy", "Referrer-Policy.", h => h.ReferrerPolicy, (h, v) => h with { ReferrerPolicy = v }),
        HeaderValue("headers.content_security_policy", "Content-Security-Policy, off until written for the app (\"default-src 'self'\" is a start).",
            h => h.ContentSecurityPolicy, (h, v) => h with { ContentSecurityPolicy = v }),
        new TypedSetting<bool>
        {
            Key = "headers.content_security_policy_report_only", Parser = ValueParsers.Boolean,
            Doc = "Send the policy as Content-Security-Policy-Report-Only: browsers report what it would block instead of blocking it.",
            Get = s => s.Headers.ContentSecurityPolicyReportOnly, Set = (s, v) => s with { Headers = s.Headers with { ContentSecurityPolicyReportOnly = v } },
        },
        HeaderValue("headers.permissions_policy", "Permissions-Policy.", h => h.PermissionsPolicy, (h, v) => h with { PermissionsPolicy = v }),
        new TypedSetting<bool>
        {
            Key = "headers.cookie_secure", Parser = ValueParsers.Boolean,
            Doc = "Add Secure to the app's Set-Cookie headers that lack it, on HTTPS requests.",
            Get = s => s.Headers.CookieSecure, Set = (s, v) => s with { Headers = s.Headers with { CookieSecure = v } },
        },
        new TypedSetting<bool>
        {
            Key = "headers.cookie_httponly", Parser = ValueParsers.Boolean,
            Doc = "Add HttpOnly to the app's Set-Cookie headers that lack it (scripts in the page cannot read the cookie).",
            Get = s => s.Headers.CookieHttpOnly, Set = (s, v) => s with { Headers = s.Headers with { CookieHttpOnly = v } },
        },
        new TypedSetting<IReadOnlyList<string>>
        {
            Key = "headers.cookie_httponly_except", Parser = ValueParsers.TextList,
            Doc = "Cookies (by exact name) that get no HttpOnly because scripts must read them: the CSRF tokens of Django, Angular and Laravel, and Tornado.",
            DefaultDoc = "`[\"csrftoken\", \"XSRF-TOKEN\", \"_xsrf\"]`",
            Get = s => s.Headers.CookieHttpOnlyExcept, Set = (s, v) => s with { Headers = s.Headers with { CookieHttpOnlyExcept = v } },
        },
        new TypedSetting<string>
        {
            Key = "headers.cookie_samesite", Parser = SameSite,
            Doc = $"Add SameSite with this value to the app's Set-Cookie headers that have none: {SameSiteChoices} to add nothing.",
            CheckTogether = s => s.Headers.CookieSameSite == "None" && !s.Headers.CookieSecure
                ? "\"None\" needs cookie_secure = true: browsers drop a SameSite=None cookie without Secure"
                : null,
            Get = s => s.Headers.CookieSameSite, Set = (s, v) => s with { Headers = s.Headers with { CookieSameSite = v } },
        },
        new TypedSetting<IReadOnlyList<string>>
        {
            Key = "cors.allow_origins", Parser = ValueParsers.TextList,
            Doc = "Origins whose pages may call the app (\"https://shop.example\", exactly as browsers send Origin), or [\"*\"] for any (only without allow_credentials). Empty: no CORS headers at all, and OPTIONS requests reach the app.",
            DefaultDoc = "`[]`",
            Check = CheckOrigins,
            Get = s => s.Cors.AllowOrigins, Set = (s, v) => s with { Cors = s.Cors with { AllowOrigins = v } },
        },
        new TypedSetting<IReadOnlyList<string>>
        {
            Key = "cors.allow_methods", Parser = ValueParsers.TextList,
            Doc = "Methods a cross-origin request may use. A preflight (OPTIONS with Origin and Access-Control-Request-Method) is answered by Tapster: 204 when the origin, method and headers are allowed, else 403; no worker sees it.",
            Check = list => CheckTokens(list, allowStar: false),
            Get = s => s.Cors.AllowMethods, Set = (s, v) => s with { Cors = s.Cors with { AllowMethods = v } },
        },
        new TypedSetting<IReadOnlyList<string>>
        {
            Key = "cors.allow_headers", Parser = ValueParsers.TextList,
            Doc = "Request headers a cross-origin request may send (Content-Type for JSON, Authorization...), or [\"*\"] for any (only without allow_credentials).",
            DefaultDoc = "`[]`",
            Check = list => CheckTokens(list, allowStar: true),
            Get = s => s.Cors.AllowHeaders, Set = (s, v) => s with { Cors = s.Cors with { AllowHeaders = v } },
        },
        new TypedSetting<IReadOnlyList<string>>
        {
            Key = "cors.expose_headers", Parser = ValueParsers.TextList,
            Doc = "Response headers the calling page's scripts may read, beyond the safelisted ones.",
            DefaultDoc = "`[]`",
            Check = list => CheckTokens(list, allowStar: false),
            Get = s => s.Cors.ExposeHeaders, Set = (s, v) => s with { Cors = s.Cors with { ExposeHeaders = v } },
        },
        new TypedSetting<bool>
        {
            Key = "cors.allow_credentials", Parser = ValueParsers.Boolean,
            Doc = "Let cross-origin requests carry cookies and HTTP authentication (Access-Control-Allow-Credentials: true).",
            CheckTogether = s => s.Cors.AllowCredentials && (s.Cors.AllowOrigins.Contains("*") || s.Cors.AllowHeaders.Contains("*"))
                ? "cannot be true while allow_origins or allow_headers holds \"*\": browsers refuse credentials with a wildcard; list them instead"
                : null,
            Get = s => s.Cors.AllowCredentials, Set = (s, v) => s with { Cors = s.Cors with { AllowCredentials = v } },
        },
        new TypedSetting<TimeSpan>
        {
            Key = "cors.max_age", Parser = ValueParsers.Duration,
            Doc = "How long browsers may reuse a preflight's answer (Access-Control-Max-Age, whole seconds).",
            Get = s => s.Cors.MaxAge, Set = (s, v) => s with { Cors = s.Cors with { MaxAge = v } },
        },
    ];

    private static TypedSetting<string> HeaderValue(string key, string doc, Func<HeaderSettings, string> get, Func<HeaderSettings, string, HeaderSettings> set) => new()
    {
        Key = key, Parser = HeaderText,
        Doc = doc + " false or \"\" sends none.",
        Get = s => get(s.Headers), Set = (s, v) => s with { Headers = set(s.Headers, v) },
    };

    private static Parsed<string> ParseHeaderText(string text)
    {
        foreach (var c in text)
        {
            // RFC 9110 5.5: field values are visible characters, spaces and tabs; Kestrel writes them as latin-1.
            if ((c < ' ' && c != '\t') || c == '\x7f' || c > '\xff')
            {
                return Parsed<string>.Fail($"must not hold control characters such as CR or LF (U+{(int)c:X4}): they would end the header");
            }
        }

        return Parsed<string>.Ok(text.Trim());
    }

    private static Parsed<string> ParseSameSite(string text)
    {
        foreach (var choice in SameSiteValues)
        {
            if (choice.Equals(text.Trim(), StringComparison.OrdinalIgnoreCase))
            {
                return Parsed<string>.Ok(choice);
            }
        }

        return text.Trim().Length == 0 || text.Trim().Equals("false", StringComparison.OrdinalIgnoreCase)
            ? Parsed<string>.Ok("")
            : Parsed<string>.Fail($"must be {SameSiteChoices}, got '{text}'");
    }

    private static string? CheckOrigins(IReadOnlyList<string> origins)
    {
        foreach (var origin in origins)
        {
            if (origin != "*" && !CorsPolicy.IsOrigin(origin))
            {
                return $"'{origin}' is not an origin: write scheme://host[:port] as browsers send it, lower case, without a path or trailing slash (https://shop.example)";
            }
        }

        return null;
    }

    private static string? CheckTokens(IReadOnlyList<string> names, bool allowStar)
    {
        foreach (var name in names)
        {
            if (!(allowStar && name == "*") && !HttpToken.IsValid(name))
            {
                return $"'{name}' is not a method or header name";
            }
        }

        return null;
    }
}

namespace Tapster.Edge.Headers;

/// <summary>
/// <c>[headers]</c>: the security headers added to every response, and the attributes added to the app's
/// cookies. The defaults are flask-talisman's; an empty value means the header is not sent.
/// </summary>
internal sealed record HeaderSettings
{
    /// <summary>Off only by <c>--no-security-headers</c> or <c>enabled = false</c>: then no header below is sent.</summary>
    public bool Enabled { get; init; } = true;

    /// <summary>flask-talisman's one year with subdomains; no <c>preload</c>, a commitment only the site owner can make.</summary>
    public string StrictTransportSecurity { get; init; } = "max-age=31536000; includeSubDomains";

    public string ContentTypeOptions { get; init; } = "nosniff";

    public string FrameOptions { get; init; } = "SAMEORIGIN";

    public string ReferrerPolicy { get; init; } = "strict-origin-when-cross-origin";

    /// <summary>Off: a policy has to be written for the app's own scripts, styles and hosts, or it breaks the app.</summary>
    public string ContentSecurityPolicy { get; init; } = "";

    /// <summary>Sends the policy as Content-Security-Policy-Report-Only: reported by browsers, not enforced.</summary>
    public bool ContentSecurityPolicyReportOnly { get; init; }

    /// <summary>The powerful features few apps use; an app that needs one sets its own header.</summary>
    public string PermissionsPolicy { get; init; } = "geolocation=(), microphone=(), camera=()";

    public bool CookieSecure { get; init; } = true;

    public bool CookieHttpOnly { get; init; } = true;

    /// <summary>
    /// Cookies that scripts must read, left without HttpOnly: the CSRF tokens of the double-submit
    /// pattern (Django's csrftoken, Angular's and Laravel's XSRF-TOKEN, Tornado's _xsrf). With HttpOnly
    /// added, Django's documented AJAX recipe finds no token and every POST gets 403.
    /// </summary>
    public IReadOnlyList<string> CookieHttpOnlyExcept { get; init; } = ["csrftoken", "XSRF-TOKEN", "_xsrf"];

    /// <summary>Lax: browsers' own default since 2020, written out so that every browser applies it.</summary>
    public string CookieSameSite { get; init; } = "Lax";
}

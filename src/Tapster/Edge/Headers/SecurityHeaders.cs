using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace Tapster.Edge.Headers;

/// <summary>
/// The security headers of <see cref="HeaderSettings"/>, made once at start-up: each response only looks
/// up the names the app already set, and shares the values.
/// </summary>
internal sealed class SecurityHeaders
{
    private readonly KeyValuePair<string, StringValues>[] _always;
    private readonly KeyValuePair<string, StringValues>[] _httpsOnly;

    public SecurityHeaders(HeaderSettings settings)
    {
        var always = new List<KeyValuePair<string, StringValues>>();
        var httpsOnly = new List<KeyValuePair<string, StringValues>>();
        if (settings.Enabled)
        {
            Add(httpsOnly, "Strict-Transport-Security", settings.StrictTransportSecurity);
            Add(always, "X-Content-Type-Options", settings.ContentTypeOptions);
            Add(always, "X-Frame-Options", settings.FrameOptions);
            Add(always, "Referrer-Policy", settings.ReferrerPolicy);
            Add(always, settings.ContentSecurityPolicyReportOnly ? "Content-Security-Policy-Report-Only" : "Content-Security-Policy", settings.ContentSecurityPolicy);
            Add(always, "Permissions-Policy", settings.PermissionsPolicy);
        }

        _always = [.. always];
        _httpsOnly = [.. httpsOnly];
    }

    /// <summary>Adds each header the response does not have yet (names compare case-insensitively).</summary>
    public void Apply(IHeaderDictionary headers, bool isHttps)
    {
        AddMissing(headers, _always);
        if (isHttps)
        {
            AddMissing(headers, _httpsOnly);
        }
    }

    private static void AddMissing(IHeaderDictionary headers, KeyValuePair<string, StringValues>[] wanted)
    {
        foreach (var (name, value) in wanted)
        {
            headers.TryAdd(name, value);
        }
    }

    private static void Add(List<KeyValuePair<string, StringValues>> headers, string name, string value)
    {
        if (value.Length > 0)
        {
            headers.Add(new(name, new StringValues(value)));
        }
    }
}

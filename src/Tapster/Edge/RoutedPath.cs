using System.Text;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Tapster.Edge;

/// <summary>
/// The path an app routes on: the raw target percent-decoded (PATH_INFO), with runs of slashes merged
/// as werkzeug and Django merge them. Kestrel's own path keeps %2F encoded and does not merge slashes,
/// so a rule that looks only at it ("/static" is the static site's, "/login" is rate limited) can be
/// walked around with "/static%2F.env" or "//login", which the app still routes to the same place.
/// </summary>
internal static partial class RoutedPath
{
    /// <summary>
    /// Whether <see cref="Of"/> may differ from Kestrel's decoded path beyond dot segments (which
    /// Kestrel resolves and the checks handle): an encoded slash or a run of slashes. Cheap, for the
    /// requests that need no second look.
    /// </summary>
    public static bool MayDiffer(string kestrelPath) =>
        kestrelPath.Contains("//", StringComparison.Ordinal) || kestrelPath.Contains("%2F", StringComparison.OrdinalIgnoreCase);

    /// <summary>The routed path; UTF-8, as Kestrel decodes paths (a byte that is not becomes U+FFFD).</summary>
    public static string Of(HttpContext context)
    {
        var raw = context.Features.Get<IHttpRequestFeature>()?.RawTarget ?? context.Request.Path.Value ?? "/";
        RequestFrameWriter.SplitTarget(raw, out var path, out _);
        Span<byte> bytes = path.Length <= 1024 ? stackalloc byte[path.Length] : new byte[path.Length];
        var decoded = Encoding.UTF8.GetString(bytes[..RequestFrameWriter.PercentDecode(path, bytes)]);
        return MultipleSlashes().Replace(decoded, "/");
    }

    [GeneratedRegex("/{2,}")]
    private static partial Regex MultipleSlashes();
}

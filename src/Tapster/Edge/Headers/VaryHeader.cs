using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace Tapster.Edge.Headers;

/// <summary>Vary (RFC 9110 12.5.5): what a response depends on besides its URL, for caches.</summary>
internal static class VaryHeader
{
    /// <summary>
    /// Adds <paramref name="field"/> unless Vary already names it or is <c>*</c>. Whole names of the
    /// comma-separated list count: "X-Origin-Token" does not name Origin, and a cache told only that
    /// would serve one origin's CORS answer (or a gzip body) to another client.
    /// </summary>
    public static void Add(IHeaderDictionary headers, string field)
    {
        var vary = headers.Vary;
        foreach (var value in vary)
        {
            var list = value.AsSpan();
            foreach (var range in list.Split(','))
            {
                var name = list[range].Trim(" \t");
                if (name.Equals(field, StringComparison.OrdinalIgnoreCase) || name is "*")
                {
                    return;
                }
            }
        }

        headers.Vary = vary.Count == 0 ? field : StringValues.Concat(vary, field);
    }
}

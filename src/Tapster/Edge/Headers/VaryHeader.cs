using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace Tapster.Edge.Headers;

/// <summary>Vary (RFC 9110 12.5.5): what a response depends on besides its URL, for caches.</summary>
internal static class VaryHeader
{
    /// <summary>Adds <paramref name="field"/> unless Vary already names it or is <c>*</c>.</summary>
    public static void Add(IHeaderDictionary headers, string field)
    {
        var vary = headers.Vary;
        foreach (var value in vary)
        {
            if (value is not null && (value.Contains(field, StringComparison.OrdinalIgnoreCase) || value.Trim() == "*"))
            {
                return;
            }
        }

        headers.Vary = vary.Count == 0 ? field : StringValues.Concat(vary, field);
    }
}

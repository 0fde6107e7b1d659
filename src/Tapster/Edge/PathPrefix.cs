namespace Tapster.Edge;

/// <summary>How a URL prefix from the config (a rate limit's, an access-log skip) matches a request path.</summary>
internal static class PathPrefix
{
    /// <summary>"/api" covers /api and /api/x but not /apiary; "/" covers everything.</summary>
    public static bool Covers(string path, string prefix) =>
        prefix == "/" || (path.StartsWith(prefix, StringComparison.Ordinal)
            && (path.Length == prefix.Length || path[prefix.Length] == '/' || prefix.EndsWith('/')));
}

using System.Buffers;

namespace Tapster.Edge.Static;

/// <summary>
/// Names that carry a hash of their content (<c>app.3f2a91c0.css</c>, as bundlers write them): a new
/// version gets a new name, so the old one can be cached for ever.
/// </summary>
internal static class Fingerprint
{
    /// <summary>Eight hex digits (32 bits) is the shortest hash common bundlers emit.</summary>
    private const int MinHexDigits = 8;

    private static readonly SearchValues<char> HexDigits = SearchValues.Create("0123456789abcdefABCDEF");

    /// <summary>True when a part between two dots of the file name is 8 or more hex digits.</summary>
    public static bool IsFingerprinted(ReadOnlySpan<char> fileName)
    {
        var first = fileName.IndexOf('.');
        var last = fileName.LastIndexOf('.');
        if (first < 0 || first == last)
        {
            return false;
        }

        var middle = fileName[(first + 1)..last];
        foreach (var range in middle.Split('.'))
        {
            var part = middle[range];
            if (part.Length >= MinHexDigits && !part.ContainsAnyExcept(HexDigits))
            {
                return true;
            }
        }

        return false;
    }
}

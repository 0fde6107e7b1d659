using System.Collections.Frozen;
using Tapster.Edge.Headers;

namespace Tapster.Edge.Compression;

/// <summary>
/// The media types worth compressing, from <see cref="CompressionSettings.Types"/>: exact types
/// (<c>application/json</c>) and whole families (<c>text/*</c>); parameters such as charset are ignored.
/// </summary>
internal sealed class CompressibleTypes
{
    private readonly FrozenSet<string>.AlternateLookup<ReadOnlySpan<char>> _exact;
    private readonly string[] _families;

    public CompressibleTypes(IReadOnlyList<string> types)
    {
        var exact = new List<string>();
        var families = new List<string>();
        foreach (var type in types)
        {
            (type.EndsWith("/*", StringComparison.Ordinal) ? families : exact).Add(type.TrimEnd('*'));
        }

        _exact = exact.ToFrozenSet(StringComparer.OrdinalIgnoreCase).GetAlternateLookup<ReadOnlySpan<char>>();
        _families = [.. families];
    }

    public bool Contains(string? contentType)
    {
        if (contentType is null)
        {
            return false;
        }

        var essence = contentType.AsSpan();
        var semicolon = essence.IndexOf(';');
        essence = (semicolon < 0 ? essence : essence[..semicolon]).Trim();
        if (_exact.Contains(essence))
        {
            return true;
        }

        foreach (var family in _families)
        {
            if (essence.StartsWith(family, StringComparison.OrdinalIgnoreCase) && essence.Length > family.Length)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The problem with a configured entry (type/subtype or type/*), or null.</summary>
    public static string? Check(IReadOnlyList<string> types)
    {
        foreach (var type in types)
        {
            var slash = type.IndexOf('/', StringComparison.Ordinal);
            if (slash < 0 || !HttpToken.IsValid(type.AsSpan(0, slash)) || !(type[(slash + 1)..] is "*" || HttpToken.IsValid(type.AsSpan(slash + 1))))
            {
                return $"'{type}' is not a media type: write type/subtype (application/json) or type/* (text/*), without parameters";
            }
        }

        return null;
    }
}

namespace Tapster.Edge.Static;

/// <summary>
/// The answer to a Range header (RFC 9110 14.1.2): one byte range, or why the whole file (or a 416) is
/// the answer instead. Only single ranges are served: multipart/byteranges buys little and costs a lot,
/// and RFC 9110 lets a server ignore Range and send the whole representation.
/// </summary>
internal readonly record struct ByteRange(RangeKind Kind, long Start, long Length)
{
    private const string Unit = "bytes=";

    public static ByteRange Whole(long length) => new(RangeKind.Whole, 0, length);

    /// <summary>Parses <paramref name="header"/> against a file of <paramref name="fileLength"/> bytes.</summary>
    public static ByteRange Parse(ReadOnlySpan<char> header, long fileLength)
    {
        if (!header.StartsWith(Unit, StringComparison.OrdinalIgnoreCase))
        {
            return Whole(fileLength);
        }

        var spec = header[Unit.Length..].Trim();
        var dash = spec.IndexOf('-');
        if (dash < 0 || spec.Contains(','))
        {
            return Whole(fileLength);
        }

        var firstText = spec[..dash].Trim();
        var lastText = spec[(dash + 1)..].Trim();
        if (firstText.IsEmpty)
        {
            // bytes=-N: the last N bytes. N = 0 selects nothing, so it cannot be satisfied.
            if (!TryParseNumber(lastText, out var suffix))
            {
                return Whole(fileLength);
            }

            return suffix == 0 || fileLength == 0
                ? new(RangeKind.Unsatisfiable, 0, 0)
                : new(RangeKind.Partial, fileLength - Math.Min(suffix, fileLength), Math.Min(suffix, fileLength));
        }

        if (!TryParseNumber(firstText, out var first))
        {
            return Whole(fileLength);
        }

        var last = long.MaxValue;
        if (!lastText.IsEmpty && (!TryParseNumber(lastText, out last) || last < first))
        {
            // bytes=5-2 is not a valid range: RFC 9110 says to ignore the header.
            return Whole(fileLength);
        }

        if (first >= fileLength)
        {
            return new(RangeKind.Unsatisfiable, 0, 0);
        }

        return new(RangeKind.Partial, first, Math.Min(last, fileLength - 1) - first + 1);
    }

    /// <summary>Digits only; a number too big for a long saturates, since it is past any file's end anyway.</summary>
    private static bool TryParseNumber(ReadOnlySpan<char> text, out long value)
    {
        value = 0;
        if (text.IsEmpty)
        {
            return false;
        }

        foreach (var c in text)
        {
            if (!char.IsAsciiDigit(c))
            {
                return false;
            }

            value = value > (long.MaxValue - 9) / 10 ? long.MaxValue : (value * 10) + (c - '0');
        }

        return true;
    }
}

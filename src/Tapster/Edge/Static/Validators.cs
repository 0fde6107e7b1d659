using System.Globalization;
using Microsoft.Extensions.Primitives;

namespace Tapster.Edge.Static;

/// <summary>
/// ETag and Last-Modified, and the conditional requests built on them (RFC 9110 13): a client that
/// holds the current version gets 304 and no body.
/// </summary>
internal static class Validators
{
    /// <summary>
    /// A strong ETag from the modification time (to the tick, so two saves in one second differ) and the
    /// length, as nginx makes them, plus the content coding: the .br and .gz bodies are other bytes.
    /// </summary>
    public static string ETag(DateTime lastWriteUtc, long length, string? encoding) =>
        encoding is null
            ? string.Create(CultureInfo.InvariantCulture, $"\"{lastWriteUtc.Ticks:x}-{length:x}\"")
            : string.Create(CultureInfo.InvariantCulture, $"\"{lastWriteUtc.Ticks:x}-{length:x}-{encoding}\"");

    /// <summary>HTTP dates have whole seconds; comparisons use the same precision.</summary>
    public static DateTimeOffset LastModified(DateTime lastWriteUtc) =>
        new(lastWriteUtc.Ticks - (lastWriteUtc.Ticks % TimeSpan.TicksPerSecond), TimeSpan.Zero);

    /// <summary>
    /// RFC 9110 13.1.2 and 13.1.3 for GET and HEAD: If-None-Match decides when present (weak
    /// comparison), else If-Modified-Since; an unparseable date is ignored.
    /// </summary>
    public static bool IsNotModified(StringValues ifNoneMatch, StringValues ifModifiedSince, string etag, DateTimeOffset lastModified)
    {
        if (!StringValues.IsNullOrEmpty(ifNoneMatch))
        {
            foreach (var value in ifNoneMatch)
            {
                if (ListContains(value, etag))
                {
                    return true;
                }
            }

            return false;
        }

        return ifModifiedSince.Count == 1 && TryParseDate(ifModifiedSince[0], out var since) && lastModified <= since;
    }

    /// <summary>
    /// RFC 9110 13.1.5: a Range is honoured only if If-Range, when sent, still names this version:
    /// the exact (strong) ETag, or the exact Last-Modified date.
    /// </summary>
    public static bool RangeStillValid(StringValues ifRange, string etag, DateTimeOffset lastModified)
    {
        if (StringValues.IsNullOrEmpty(ifRange))
        {
            return true;
        }

        var value = ifRange[0]!.Trim();
        return value.StartsWith('"') ? value == etag : TryParseDate(value, out var date) && date == lastModified;
    }

    /// <summary>Whether a comma-separated If-None-Match list holds <c>*</c> or the tag (W/ prefixes ignored).</summary>
    private static bool ListContains(string? list, string etag)
    {
        foreach (var range in list.AsSpan().Split(','))
        {
            var tag = list.AsSpan()[range].Trim();
            if (tag is "*" || (tag.StartsWith("W/") ? tag[2..] : tag).SequenceEqual(etag))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>RFC 9110 5.6.7: IMF-fixdate, and the obsolete RFC 850 and asctime forms a recipient must accept too.</summary>
    private static bool TryParseDate(string? text, out DateTimeOffset date) =>
        Microsoft.Net.Http.Headers.HeaderUtilities.TryParseDate(text, out date);
}

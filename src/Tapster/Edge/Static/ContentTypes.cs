using System.Collections.Frozen;

namespace Tapster.Edge.Static;

/// <summary>
/// Content-Type by file extension: the common web types, so browsers never have to sniff (they must
/// not, with X-Content-Type-Options: nosniff). Text types say their charset: UTF-8 is what every
/// toolchain writes today, and a missing charset makes browsers guess.
/// </summary>
internal static class ContentTypes
{
    /// <summary>RFC 9110 8.3: what a recipient assumes for unknown data anyway, said out loud.</summary>
    public const string Default = "application/octet-stream";

    private const string Utf8 = "; charset=utf-8";

    private static readonly FrozenDictionary<string, string> ByExtension = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
    {
        [".html"] = "text/html" + Utf8,
        [".htm"] = "text/html" + Utf8,
        [".css"] = "text/css" + Utf8,
        [".js"] = "text/javascript" + Utf8,
        [".mjs"] = "text/javascript" + Utf8,
        [".json"] = "application/json" + Utf8,
        [".map"] = "application/json" + Utf8,
        [".webmanifest"] = "application/manifest+json" + Utf8,
        [".txt"] = "text/plain" + Utf8,
        [".md"] = "text/markdown" + Utf8,
        [".csv"] = "text/csv" + Utf8,
        [".xml"] = "application/xml" + Utf8,
        [".svg"] = "image/svg+xml" + Utf8,
        [".png"] = "image/png",
        [".jpg"] = "image/jpeg",
        [".jpeg"] = "image/jpeg",
        [".gif"] = "image/gif",
        [".webp"] = "image/webp",
        [".avif"] = "image/avif",
        [".ico"] = "image/x-icon",
        [".bmp"] = "image/bmp",
        [".woff"] = "font/woff",
        [".woff2"] = "font/woff2",
        [".ttf"] = "font/ttf",
        [".otf"] = "font/otf",
        [".wasm"] = "application/wasm",
        [".pdf"] = "application/pdf",
        [".zip"] = "application/zip",
        [".gz"] = "application/gzip",
        [".br"] = "application/x-brotli",
        [".mp4"] = "video/mp4",
        [".webm"] = "video/webm",
        [".mp3"] = "audio/mpeg",
        [".ogg"] = "audio/ogg",
        [".wav"] = "audio/wav",
    }.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);

    /// <summary>The Content-Type for a file name; <see cref="Default"/> when the extension is unknown.</summary>
    public static string For(string fileName)
    {
        var extension = Path.GetExtension(fileName.AsSpan());
        return ByExtension.GetAlternateLookup<ReadOnlySpan<char>>().TryGetValue(extension, out var type) ? type : Default;
    }
}

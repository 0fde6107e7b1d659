namespace Tapster.Edge.Compression;

/// <summary><c>[compression]</c>: Brotli and gzip for the app's text responses, when the client takes them.</summary>
internal sealed record CompressionSettings
{
    /// <summary>On: text compresses 3 to 10 times, and apps rarely do it themselves (nginx needs `gzip on`).</summary>
    public bool Enabled { get; init; } = true;

    /// <summary>
    /// 1 KiB: below it the saving is smaller than one TCP packet while the encoder's set-up cost stays
    /// (nginx's gzip_min_length of 20 bytes compresses bodies that cannot shrink). Only a declared
    /// Content-Length is compared: a stream's size is unknown until it ends.
    /// </summary>
    public long MinSize { get; init; } = 1024;

    public IReadOnlyList<string> Types { get; init; } = DefaultTypes;

    /// <summary>
    /// Text formats that compress well. Not text/event-stream: events are small and live, and some
    /// proxies buffer a compressed stream. No image, audio, video or archive type: already compressed.
    /// </summary>
    public static IReadOnlyList<string> DefaultTypes { get; } =
    [
        "text/html", "text/plain", "text/css", "text/javascript", "text/xml", "text/csv", "text/markdown", "text/calendar",
        "application/json", "application/javascript", "application/xml", "application/xhtml+xml", "application/rss+xml",
        "application/atom+xml", "application/ld+json", "application/manifest+json", "application/geo+json",
        "application/problem+json", "application/wasm", "image/svg+xml", "image/x-icon", "image/bmp",
        "font/ttf", "font/otf", "application/vnd.ms-fontobject",
    ];
}

using Tapster.Configuration;

namespace Tapster.Edge.Compression;

/// <summary>The <c>[compression]</c> entries of <see cref="SettingsSchema"/>.</summary>
internal static class CompressionSchema
{
    public static IReadOnlyList<Setting> Settings { get; } =
    [
        new TypedSetting<bool>
        {
            Key = "compression.enabled", Flag = "--no-compression", Parser = ValueParsers.Boolean, TextParser = ValueParsers.NegatedBoolean,
            Doc = "Compress the app's responses with Brotli or gzip, as the client's Accept-Encoding prefers, when their type is in `types`, they are at least `min_size` long (or streamed), and the app did not encode them or send Cache-Control: no-transform. `enabled = false`, or the flag --no-compression, sends every body as the app wrote it. See docs/compression.md.",
            FlagDoc = "Send every body as the app wrote it, without the Brotli or gzip compression Tapster applies by default (see docs/compression.md). Off by default.",
            Get = s => s.Compression.Enabled, Set = (s, v) => s with { Compression = s.Compression with { Enabled = v } },
        },
        new TypedSetting<long>
        {
            Key = "compression.min_size", Parser = ValueParsers.Size,
            Doc = "Smallest Content-Length worth compressing; a streamed response (no Content-Length) is compressed whatever its size, flushed chunk by chunk.",
            Get = s => s.Compression.MinSize, Set = (s, v) => s with { Compression = s.Compression with { MinSize = v } },
        },
        new TypedSetting<IReadOnlyList<string>>
        {
            Key = "compression.types", Parser = ValueParsers.TextList,
            Doc = "Content-Types to compress, without parameters: type/subtype, or type/* for a whole family. Listing text/event-stream compresses server-sent events too, each flushed as it comes.",
            Check = CompressibleTypes.Check,
            Get = s => s.Compression.Types, Set = (s, v) => s with { Compression = s.Compression with { Types = v } },
        },
    ];
}

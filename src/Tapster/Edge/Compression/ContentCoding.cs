namespace Tapster.Edge.Compression;

/// <summary>How a response body travels: as the app wrote it, or compressed by Tapster.</summary>
internal enum ContentCoding
{
    Identity,
    Brotli,
    Gzip,
}

using System.Buffers;
using System.Security.Cryptography;
using System.Text;

namespace Tapster.Secrets;

/// <summary>
/// The 32-byte AES-256 master key, and its public key id: the first 8 bytes of SHA-256(key), in hex.
/// The key id is written into the secrets file so a file opened with another key is named as such
/// instead of failing as "damaged". Dispose zeroes the key bytes.
/// </summary>
internal sealed class MasterKey : IDisposable
{
    public const int Size = 32;

    /// <summary>Key files are a line of text; anything much larger is not a key file.</summary>
    public const int MaxEncodedLength = 4096;

    private static readonly SearchValues<char> HexDigits = SearchValues.Create("0123456789abcdefABCDEF");

    private readonly byte[] _key;

    private MasterKey(byte[] key, MasterKeySource source, string origin, string? filePath)
    {
        _key = key;
        Source = source;
        Origin = origin;
        FilePath = filePath;
        KeyId = ComputeKeyId(key);
    }

    public MasterKeySource Source { get; }

    /// <summary>Where the key came from, for messages: "TAPSTER_MASTER_KEY", "key file /srv/app/.tapster/master.key".</summary>
    public string Origin { get; }

    /// <summary>The file the key was read from (key file or systemd credential), else null.</summary>
    public string? FilePath { get; }

    public string KeyId { get; }

    internal ReadOnlySpan<byte> Bytes => _key;

    public static MasterKey Generate() =>
        new(RandomNumberGenerator.GetBytes(Size), MasterKeySource.Generated, "a new key", null);

    /// <summary>
    /// Accepts base64 or hex text of 32 bytes (surrounding whitespace ignored), or exactly 32 raw bytes
    /// (systemd-creds and <c>head -c 32 /dev/urandom</c> produce those).
    /// </summary>
    public static MasterKey Parse(ReadOnlySpan<byte> encoded, MasterKeySource source, string origin, string? filePath = null)
    {
        string text;
        try
        {
            text = new UTF8Encoding(false, true).GetString(encoded).Trim();
        }
        catch (DecoderFallbackException)
        {
            text = "";
        }

        var key = DecodeText(text);
        // Raw only when it cannot be text: a 32-character typo'd hex or base64 key must not pass as raw bytes.
        if (key is null && encoded.Length == Size && encoded.ContainsAnyExceptInRange((byte)' ', (byte)'~'))
        {
            key = encoded.ToArray();
        }

        if (key is null)
        {
            var what = text.Length == 0 && encoded.Length == 0 ? "is empty" : DescribeWrongKey(text, encoded.Length);
            throw new SecretsException(
                SecretsErrorKind.Configuration,
                $"master key from {origin} {what}; a master key is {Size} random bytes as base64 or hex (make one: head -c 32 /dev/urandom | base64)");
        }

        return new MasterKey(key, source, origin, filePath);
    }

    /// <summary>The key id of the key stored as <paramref name="encoded"/>, or null when it is not a valid key.</summary>
    public static string? TryKeyIdOf(ReadOnlySpan<byte> encoded)
    {
        try
        {
            using var key = Parse(encoded, MasterKeySource.KeyFile, "probe");
            return key.KeyId;
        }
        catch (SecretsException)
        {
            return null;
        }
    }

    public static string ComputeKeyId(ReadOnlySpan<byte> key)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(key, hash);
        return Convert.ToHexStringLower(hash[..8]);
    }

    /// <summary>The text written to key files: base64 and a newline.</summary>
    public string ToFileText() => Convert.ToBase64String(_key) + "\n";

    public MasterKey WithSource(MasterKeySource source, string origin, string? filePath) =>
        new((byte[])_key.Clone(), source, origin, filePath);

    public void Dispose() => CryptographicOperations.ZeroMemory(_key);

    public override string ToString() => $"master key {KeyId} from {Origin}";

    private static byte[]? DecodeText(string text)
    {
        if (text.Length == Size * 2 && IsHex(text))
        {
            return Convert.FromHexString(text);
        }

        var buffer = new byte[Size + 3];
        try
        {
            return text.Length > 0 && Convert.TryFromBase64String(text, buffer, out var written) && written == Size ? buffer[..Size] : null;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(buffer);
        }
    }

    private static string DescribeWrongKey(string text, int rawLength)
    {
        if (text.Length > 0 && IsHex(text) && text.Length % 2 == 0)
        {
            return $"is {text.Length / 2} bytes of hex, not {Size}";
        }

        var buffer = new byte[(text.Length * 3 / 4) + 3];
        if (text.Length > 0 && Convert.TryFromBase64String(text, buffer, out var written))
        {
            return $"decodes to {written} bytes, not {Size}";
        }

        return $"is neither base64 nor hex ({rawLength} bytes)";
    }

    private static bool IsHex(ReadOnlySpan<char> text) => text.Length > 0 && !text.ContainsAnyExcept(HexDigits);
}

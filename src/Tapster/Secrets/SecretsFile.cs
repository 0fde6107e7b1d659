using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Tapster.Secrets;

/// <summary>
/// The secrets file codec, format version 1. Integers are little-endian, like the worker protocol.
/// <code>
/// header, 24 bytes
///    0   8  magic "TPSTSECR"
///    8   2  format version (u16) = 1
///   10   2  reserved (u16) = 0
///   12   8  key id: SHA-256(master key)[0..8]
///   20   4  entry count N (u32, &lt;= MaxEntries)
/// N entries, names in ascending ordinal order, each
///    0   1  name length L (u8, 1..128)
///    1   L  name, ASCII [A-Za-z_][A-Za-z0-9_]*
///        8  changed at (i64, Unix milliseconds)
///       12  nonce: random, fresh for every entry on every write
///        4  ciphertext length C (u32, &lt;= MaxValueBytes)
///        C  ciphertext: AES-256-GCM(entry key, nonce, UTF-8 value, associated data = name)
///       16  GCM tag
/// trailer, 32 bytes
///           HMAC-SHA256(file key, every byte before the trailer)
/// </code>
/// entry key = HKDF-SHA256(master key, info "tapster secrets v1 entry"), file key = the same with info
/// "tapster secrets v1 file". The name as associated data stops a value being moved to another name;
/// the trailer covers what per-entry tags cannot: the header, the timestamps, the order and the number of
/// entries, so dropping, reordering or truncating is caught as surely as a flipped bit.
/// </summary>
internal static class SecretsFile
{
    public const ushort Version = 1;
    public const int HeaderSize = 24;
    public const int TrailerSize = 32;
    public const int NonceSize = 12;
    public const int TagSize = 16;
    public const int MaxEntries = 4096;

    /// <summary>
    /// Values become environment variables, and Linux caps one "NAME=value" string at 128 KiB
    /// (MAX_ARG_STRLEN) and all of them together at a quarter of the stack limit: 64 KiB keeps several.
    /// </summary>
    public const int MaxValueBytes = 64 * 1024;

    public static ReadOnlySpan<byte> Magic => "TPSTSECR"u8;

    /// <summary>Null when <paramref name="value"/> can be stored and passed through an environment, else why not.</summary>
    public static string? CheckValue(string name, string value)
    {
        if (value.Contains('\0', StringComparison.Ordinal))
        {
            return $"the value of {name} contains a NUL character, which an environment variable cannot hold";
        }

        var length = Encoding.UTF8.GetByteCount(value);
        return length > MaxValueBytes ? $"the value of {name} is {length} bytes; the limit is {MaxValueBytes} (environment variables are small)" : null;
    }

    public static byte[] Encode(IEnumerable<SecretEntry> entries, MasterKey key)
    {
        var sorted = entries.OrderBy(e => e.Name, StringComparer.Ordinal).ToList();
        if (sorted.Count > MaxEntries)
        {
            throw new SecretsException(SecretsErrorKind.Configuration, $"too many secrets ({sorted.Count}); the limit is {MaxEntries}");
        }

        var values = new List<byte[]>(sorted.Count);
        var size = HeaderSize + TrailerSize;
        for (var i = 0; i < sorted.Count; i++)
        {
            var entry = sorted[i];
            SecretName.Validate(entry.Name);
            if (i > 0 && sorted[i - 1].Name == entry.Name)
            {
                throw new SecretsException(SecretsErrorKind.Configuration, $"secret '{entry.Name}' appears twice");
            }

            if (CheckValue(entry.Name, entry.Value) is { } problem)
            {
                throw new SecretsException(SecretsErrorKind.Configuration, problem);
            }

            values.Add(Encoding.UTF8.GetBytes(entry.Value));
            size += 1 + entry.Name.Length + 8 + NonceSize + 4 + values[i].Length + TagSize;
        }

        var file = new byte[size];
        Magic.CopyTo(file);
        BinaryPrimitives.WriteUInt16LittleEndian(file.AsSpan(8), Version);
        Convert.FromHexString(key.KeyId, file.AsSpan(12, 8), out _, out _);
        BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(20), (uint)sorted.Count);

        var (entryKey, fileKey) = DeriveKeys(key);
        try
        {
            using var aes = new AesGcm(entryKey, TagSize);
            var at = HeaderSize;
            for (var i = 0; i < sorted.Count; i++)
            {
                var name = sorted[i].Name;
                file[at++] = (byte)name.Length;
                at += Encoding.ASCII.GetBytes(name, file.AsSpan(at));
                BinaryPrimitives.WriteInt64LittleEndian(file.AsSpan(at), sorted[i].ChangedAt.ToUnixTimeMilliseconds());
                at += 8;
                var nonce = file.AsSpan(at, NonceSize);
                RandomNumberGenerator.Fill(nonce);
                at += NonceSize;
                BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(at), (uint)values[i].Length);
                at += 4;
                var ciphertext = file.AsSpan(at, values[i].Length);
                var tag = file.AsSpan(at + values[i].Length, TagSize);
                aes.Encrypt(nonce, values[i], ciphertext, tag, Encoding.ASCII.GetBytes(name));
                CryptographicOperations.ZeroMemory(values[i]);
                at += values[i].Length + TagSize;
            }

            HMACSHA256.HashData(fileKey, file.AsSpan(0, at), file.AsSpan(at, TrailerSize));
            return file;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(entryKey);
            CryptographicOperations.ZeroMemory(fileKey);
        }
    }

    /// <summary>Checks the whole file, then decrypts every entry; any doubt throws (fail closed), naming <paramref name="path"/>.</summary>
    public static List<SecretEntry> Decode(ReadOnlySpan<byte> file, MasterKey key, string path)
    {
        CheckHeader(file, path);
        if (ReadKeyId(file) is var fileKeyId && fileKeyId != key.KeyId)
        {
            throw new SecretsException(
                SecretsErrorKind.WrongKey,
                $"secrets file {path} was written with a different master key (key id {fileKeyId}; the key from {key.Origin} has key id {key.KeyId})");
        }

        var (entryKey, fileKey) = DeriveKeys(key);
        try
        {
            Span<byte> expected = stackalloc byte[TrailerSize];
            HMACSHA256.HashData(fileKey, file[..^TrailerSize], expected);
            if (!CryptographicOperations.FixedTimeEquals(expected, file[^TrailerSize..]))
            {
                throw Damaged(path, "failed its integrity check: it is truncated, damaged or was tampered with");
            }

            return DecodeEntries(file[..^TrailerSize], entryKey, path);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(entryKey);
            CryptographicOperations.ZeroMemory(fileKey);
        }
    }

    /// <summary>The key id in a file's header (hex), after checking magic, length and version.</summary>
    public static string ReadKeyId(ReadOnlySpan<byte> file) => Convert.ToHexStringLower(file.Slice(12, 8));

    /// <summary>Throws unless <paramref name="file"/> starts like a complete version-1 secrets file.</summary>
    public static void CheckHeader(ReadOnlySpan<byte> file, string path)
    {
        var magicMatches = file.Length < Magic.Length ? Magic.StartsWith(file) : file.StartsWith(Magic);
        if (!magicMatches)
        {
            throw Damaged(path, "is not a Tapster secrets file (no TPSTSECR header)");
        }

        if (file.Length < HeaderSize + TrailerSize)
        {
            throw Damaged(path, $"is truncated ({file.Length} bytes)");
        }

        var version = BinaryPrimitives.ReadUInt16LittleEndian(file[8..]);
        if (version != Version)
        {
            throw Damaged(path, $"uses secrets format version {version}; this Tapster reads version {Version}");
        }
    }

    /// <summary>Recomputes the trailer in place: for tests that forge a file with a valid trailer.</summary>
    internal static void Seal(Span<byte> file, MasterKey key)
    {
        var (entryKey, fileKey) = DeriveKeys(key);
        HMACSHA256.HashData(fileKey, file[..^TrailerSize], file[^TrailerSize..]);
        CryptographicOperations.ZeroMemory(entryKey);
        CryptographicOperations.ZeroMemory(fileKey);
    }

    private static List<SecretEntry> DecodeEntries(ReadOnlySpan<byte> body, byte[] entryKey, string path)
    {
        var count = BinaryPrimitives.ReadUInt32LittleEndian(body[20..]);
        if (count > MaxEntries)
        {
            throw Damaged(path, $"claims {count} entries; the limit is {MaxEntries}");
        }

        var entries = new List<SecretEntry>((int)count);
        using var aes = new AesGcm(entryKey, TagSize);
        var at = HeaderSize;
        for (var i = 0; i < count; i++)
        {
            var nameLength = Need(body, at, 1, path)[0];
            at++;
            var nameBytes = Need(body, at, nameLength, path);
            var name = Encoding.ASCII.GetString(nameBytes);
            if (SecretName.Check(name) is not null || (entries.Count > 0 && string.CompareOrdinal(entries[^1].Name, name) >= 0))
            {
                throw Damaged(path, $"is malformed: entry {i + 1} has a bad or out-of-order name");
            }

            at += nameLength;
            var changedAt = BinaryPrimitives.ReadInt64LittleEndian(Need(body, at, 8, path));
            at += 8;
            var nonce = Need(body, at, NonceSize, path);
            at += NonceSize;
            var length = BinaryPrimitives.ReadUInt32LittleEndian(Need(body, at, 4, path));
            at += 4;
            if (length > MaxValueBytes)
            {
                throw Damaged(path, $"is malformed: secret '{name}' claims {length} bytes");
            }

            var ciphertext = Need(body, at, (int)length + TagSize, path);
            at += (int)length + TagSize;
            var plaintext = new byte[length];
            try
            {
                aes.Decrypt(nonce, ciphertext[..(int)length], ciphertext[(int)length..], plaintext, nameBytes);
                var value = new UTF8Encoding(false, true).GetString(plaintext);
                entries.Add(new SecretEntry(name, value, DateTimeOffset.FromUnixTimeMilliseconds(Math.Clamp(changedAt, 0, 253402300799999))));
            }
            catch (AuthenticationTagMismatchException)
            {
                throw Damaged(path, $"failed authentication for secret '{name}': it was tampered with or moved from another name");
            }
            catch (DecoderFallbackException)
            {
                throw Damaged(path, $"is malformed: secret '{name}' is not UTF-8");
            }
            finally
            {
                CryptographicOperations.ZeroMemory(plaintext);
            }
        }

        if (at != body.Length)
        {
            throw Damaged(path, $"is malformed: {body.Length - at} unexpected bytes after the last entry");
        }

        return entries;
    }

    private static ReadOnlySpan<byte> Need(ReadOnlySpan<byte> body, int at, int length, string path) =>
        at + length <= body.Length ? body.Slice(at, length) : throw Damaged(path, "is malformed: an entry runs past the end of the file");

    private static SecretsException Damaged(string path, string problem) =>
        new(SecretsErrorKind.Damaged, $"secrets file {path} {problem}; nothing was read or changed");

    private static (byte[] EntryKey, byte[] FileKey) DeriveKeys(MasterKey key)
    {
        var entryKey = new byte[32];
        var fileKey = new byte[32];
        HKDF.DeriveKey(HashAlgorithmName.SHA256, key.Bytes, entryKey, [], "tapster secrets v1 entry"u8);
        HKDF.DeriveKey(HashAlgorithmName.SHA256, key.Bytes, fileKey, [], "tapster secrets v1 file"u8);
        return (entryKey, fileKey);
    }
}

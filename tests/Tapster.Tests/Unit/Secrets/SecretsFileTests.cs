using System.Buffers.Binary;
using System.Text;
using Tapster.Secrets;

namespace Tapster.Tests.Unit.Secrets;

public sealed class SecretsFileTests : IDisposable
{
    private const string Path = "/srv/app/.tapster/secrets.enc";
    private static readonly DateTimeOffset Changed = new(2025, 3, 1, 12, 0, 0, TimeSpan.Zero);

    private readonly MasterKey _key = MasterKey.Generate();

    public void Dispose() => _key.Dispose();

    private static SecretEntry[] Sample() =>
    [
        new("DATABASE_URL", "postgres://shop:pa55@db/shop", Changed),
        new("API_TOKEN", "tok_0123456789", Changed.AddDays(1)),
        new("EMPTY", "", Changed),
        new("UNICODE", "pâss wörd ✓\nsecond line", Changed),
    ];

    [Fact]
    public void EncodeDecode_RoundTrip_ReturnsEveryEntryInNameOrder()
    {
        var decoded = SecretsFile.Decode(SecretsFile.Encode(Sample(), _key), _key, Path);

        Assert.Equal(Sample().OrderBy(e => e.Name, StringComparer.Ordinal), decoded);
    }

    [Fact]
    public void Encode_NoEntries_DecodesToNone() =>
        Assert.Empty(SecretsFile.Decode(SecretsFile.Encode([], _key), _key, Path));

    [Fact]
    public void Encode_HeaderCarriesMagicVersionAndKeyId()
    {
        var file = SecretsFile.Encode(Sample(), _key);

        Assert.Equal("TPSTSECR"u8.ToArray(), file[..8]);
        Assert.Equal(1, BinaryPrimitives.ReadUInt16LittleEndian(file.AsSpan(8)));
        Assert.Equal(_key.KeyId, Convert.ToHexStringLower(file.AsSpan(12, 8)));
        Assert.Equal(4u, BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(20)));
    }

    [Fact]
    public void Encode_NeverWritesAValueInTheClear()
    {
        var file = SecretsFile.Encode(Sample(), _key);

        Assert.Equal(-1, file.AsSpan().IndexOf("pa55"u8));
        Assert.Equal(-1, file.AsSpan().IndexOf("tok_0123456789"u8));
    }

    [Fact]
    public void Encode_EveryEntryOnEveryWrite_GetsAFreshNonce()
    {
        var nonces = Enumerable.Range(0, 20)
            .SelectMany(_ => Layout.Entries(SecretsFile.Encode(Sample(), _key)))
            .Select(e => Convert.ToHexString(e.Nonce))
            .ToList();

        Assert.Equal(80, nonces.Count);
        Assert.Equal(nonces.Count, nonces.Distinct().Count());
    }

    [Fact]
    public void Encode_SameValueTwice_GivesDifferentCiphertexts()
    {
        var first = Layout.Entries(SecretsFile.Encode(Sample(), _key)).Single(e => e.Name == "API_TOKEN");
        var second = Layout.Entries(SecretsFile.Encode(Sample(), _key)).Single(e => e.Name == "API_TOKEN");

        Assert.NotEqual(first.Sealed, second.Sealed);
    }

    [Fact]
    public void Decode_CiphertextsSwappedBetweenNames_FailsEvenWithAValidTrailer()
    {
        var file = SecretsFile.Encode([new("AAA_KEY", "value-one", Changed), new("BBB_KEY", "value-two", Changed)], _key);
        var (a, b) = (Layout.Entries(file)[0], Layout.Entries(file)[1]);
        var sealedA = file.AsSpan(a.SealedOffset, a.SealedLength).ToArray();
        file.AsSpan(b.SealedOffset, b.SealedLength).CopyTo(file.AsSpan(a.SealedOffset));
        sealedA.CopyTo(file.AsSpan(b.SealedOffset));
        SecretsFile.Seal(file, _key); // as if the attacker could also forge the file-wide HMAC

        var e = Assert.Throws<SecretsException>(() => SecretsFile.Decode(file, _key, Path));

        Assert.Equal(SecretsErrorKind.Damaged, e.Kind);
        Assert.Contains("failed authentication for secret 'AAA_KEY'", e.Message, StringComparison.Ordinal);
        Assert.Contains(Path, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Decode_CiphertextsSwappedBetweenNames_FailsTheIntegrityCheck()
    {
        var file = SecretsFile.Encode([new("AAA_KEY", "value-one", Changed), new("BBB_KEY", "value-two", Changed)], _key);
        var (a, b) = (Layout.Entries(file)[0], Layout.Entries(file)[1]);
        var sealedA = file.AsSpan(a.SealedOffset, a.SealedLength).ToArray();
        file.AsSpan(b.SealedOffset, b.SealedLength).CopyTo(file.AsSpan(a.SealedOffset));
        sealedA.CopyTo(file.AsSpan(b.SealedOffset));

        var e = Assert.Throws<SecretsException>(() => SecretsFile.Decode(file, _key, Path));

        Assert.Contains("integrity check", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Decode_AnySingleBitFlipped_FailsClosed()
    {
        var original = SecretsFile.Encode(Sample(), _key);
        for (var i = 0; i < original.Length; i++)
        {
            foreach (var bit in new[] { 0x01, 0x80 })
            {
                var file = (byte[])original.Clone();
                file[i] ^= (byte)bit;

                var e = Assert.Throws<SecretsException>(() => SecretsFile.Decode(file, _key, Path));
                Assert.Contains(Path, e.Message, StringComparison.Ordinal);
                Assert.DoesNotContain('\n', e.Message);
            }
        }
    }

    [Fact]
    public void Decode_TruncatedAtAnyLength_FailsClosed()
    {
        var original = SecretsFile.Encode(Sample(), _key);
        for (var length = 0; length < original.Length; length++)
        {
            var e = Assert.Throws<SecretsException>(() => SecretsFile.Decode(original.AsSpan(0, length), _key, Path));
            Assert.Equal(SecretsErrorKind.Damaged, e.Kind);
        }
    }

    [Fact]
    public void Decode_EntriesReordered_FailsClosed()
    {
        var file = SecretsFile.Encode([new("AAA", "1111", Changed), new("BBB", "2222", Changed)], _key);
        var entries = Layout.Entries(file);
        var reordered = file[..SecretsFile.HeaderSize]
            .Concat(file[entries[1].Start..entries[1].End])
            .Concat(file[entries[0].Start..entries[0].End])
            .Concat(file[^SecretsFile.TrailerSize..])
            .ToArray();

        var e = Assert.Throws<SecretsException>(() => SecretsFile.Decode(reordered, _key, Path));

        Assert.Contains("integrity check", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Decode_LastEntryDroppedAndCountFixed_FailsClosed()
    {
        var file = SecretsFile.Encode(Sample(), _key);
        var last = Layout.Entries(file)[^1];
        var shorter = file[..last.Start].Concat(file[^SecretsFile.TrailerSize..]).ToArray();
        BinaryPrimitives.WriteUInt32LittleEndian(shorter.AsSpan(20), 3);

        Assert.Throws<SecretsException>(() => SecretsFile.Decode(shorter, _key, Path));
    }

    [Fact]
    public void Decode_OtherKey_SaysDifferentMasterKeyWithBothKeyIds()
    {
        using var other = MasterKey.Generate();
        var file = SecretsFile.Encode(Sample(), other);

        var e = Assert.Throws<SecretsException>(() => SecretsFile.Decode(file, _key, Path));

        Assert.Equal(SecretsErrorKind.WrongKey, e.Kind);
        Assert.Equal(2, e.ExitCode);
        Assert.StartsWith($"secrets file {Path} was written with a different master key (key id {other.KeyId}", e.Message, StringComparison.Ordinal);
        Assert.Contains(_key.KeyId, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Decode_NotASecretsFile_SaysSo()
    {
        var e = Assert.Throws<SecretsException>(() => SecretsFile.Decode("DATABASE_URL=postgres://x\n"u8, _key, Path));

        Assert.Contains("is not a Tapster secrets file", e.Message, StringComparison.Ordinal);
        Assert.Equal(1, e.ExitCode);
    }

    [Fact]
    public void Decode_FutureFormatVersion_NamesTheVersion()
    {
        var file = SecretsFile.Encode(Sample(), _key);
        BinaryPrimitives.WriteUInt16LittleEndian(file.AsSpan(8), 2);

        var e = Assert.Throws<SecretsException>(() => SecretsFile.Decode(file, _key, Path));

        Assert.Contains("format version 2", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Encode_ValueOverTheEnvironmentLimit_IsRefused()
    {
        var e = Assert.Throws<SecretsException>(() => SecretsFile.Encode([new("BIG", new string('x', SecretsFile.MaxValueBytes + 1), Changed)], _key));

        Assert.Equal(SecretsErrorKind.Configuration, e.Kind);
    }

    [Fact]
    public void SecretEntry_ToString_LeavesTheValueOut() =>
        Assert.DoesNotContain("pa55", Sample()[0].ToString(), StringComparison.Ordinal);

    /// <summary>Walks the documented version-1 layout, independently of the codec, to pin it.</summary>
    private static class Layout
    {
        public sealed record Entry(string Name, int Start, int End, byte[] Nonce, int SealedOffset, int SealedLength, byte[] Sealed);

        public static List<Entry> Entries(byte[] file)
        {
            var count = BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(20));
            var entries = new List<Entry>();
            var at = SecretsFile.HeaderSize;
            for (var i = 0; i < count; i++)
            {
                var start = at;
                var nameLength = file[at++];
                var name = Encoding.ASCII.GetString(file, at, nameLength);
                at += nameLength + 8;
                var nonce = file[at..(at + SecretsFile.NonceSize)];
                at += SecretsFile.NonceSize;
                var length = (int)BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(at));
                at += 4;
                var sealedLength = length + SecretsFile.TagSize;
                entries.Add(new Entry(name, start, at + sealedLength, nonce, at - SecretsFile.NonceSize - 4, SecretsFile.NonceSize + 4 + sealedLength, file[at..(at + sealedLength)]));
                at += sealedLength;
            }

            Assert.Equal(file.Length - SecretsFile.TrailerSize, at);
            return entries;
        }
    }
}

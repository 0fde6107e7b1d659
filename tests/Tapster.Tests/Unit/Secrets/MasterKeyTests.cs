using System.Security.Cryptography;
using System.Text;
using Tapster.Secrets;

namespace Tapster.Tests.Unit.Secrets;

public sealed class MasterKeyTests
{
    private static readonly byte[] Raw = Enumerable.Range(1, 32).Select(i => (byte)(i * 7)).ToArray();

    private static MasterKey Parse(string text) => MasterKey.Parse(Encoding.UTF8.GetBytes(text), MasterKeySource.Environment, "TAPSTER_MASTER_KEY");

    [Fact]
    public void Parse_Base64HexAndRaw_GiveTheSameKey()
    {
        using var fromBase64 = Parse(Convert.ToBase64String(Raw) + "\n");
        using var fromHex = Parse("  " + Convert.ToHexStringLower(Raw) + "\r\n");
        using var fromUpperHex = Parse(Convert.ToHexString(Raw));
        using var fromRaw = MasterKey.Parse(Raw, MasterKeySource.Credential, "credential");

        Assert.Equal(Raw, fromBase64.Bytes.ToArray());
        Assert.Equal([fromBase64.KeyId], new[] { fromHex.KeyId, fromUpperHex.KeyId, fromRaw.KeyId }.Distinct());
    }

    [Fact]
    public void KeyId_IsTheFirstEightBytesOfSha256InHex()
    {
        using var key = MasterKey.Parse(Raw, MasterKeySource.Credential, "credential");

        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(Raw)[..8]), key.KeyId);
    }

    [Theory]
    [InlineData("AAAAAAAAAAAAAAAAAAAAAA==", "decodes to 16 bytes, not 32")]
    [InlineData("00112233445566778899aabbccddeeff", "is 16 bytes of hex, not 32")]
    [InlineData("not a key at all!", "is neither base64 nor hex")]
    [InlineData("", "is empty")]
    public void Parse_WrongKey_SaysWhatIsWrongAndNamesTheSource(string text, string problem)
    {
        var e = Assert.Throws<SecretsException>(() => Parse(text));

        Assert.StartsWith($"master key from TAPSTER_MASTER_KEY {problem}", e.Message, StringComparison.Ordinal);
        Assert.Equal(2, e.ExitCode);
    }

    [Fact]
    public void Parse_ThirtyTwoPrintableCharacters_AreNotTakenAsRawBytes() =>
        Assert.Throws<SecretsException>(() => Parse("0123456789abcdef0123456789abcdef"));

    [Fact]
    public void ToString_ShowsTheKeyIdNotTheKey()
    {
        using var key = MasterKey.Parse(Raw, MasterKeySource.Credential, "credential");

        Assert.DoesNotContain(Convert.ToBase64String(Raw), key.ToString(), StringComparison.Ordinal);
        Assert.Contains(key.KeyId, key.ToString(), StringComparison.Ordinal);
    }
}

using Tapster.Secrets;

namespace Tapster.Tests.Unit.Secrets;

public sealed class SecretRedactorTests
{
    private static readonly SecretRedactor Redactor = new(new Dictionary<string, string>
    {
        ["DB_PASSWORD"] = "hunter22",
        ["DATABASE_URL"] = "postgres://shop:hunter22@db/shop",
        ["API_TOKEN"] = "tok_abcdef",
        ["DEBUG"] = "1",
        ["ALIAS_TOKEN"] = "tok_abcdef",
    });

    [Fact]
    public void Redact_KnownValue_IsReplacedByItsName() =>
        Assert.Equal("login with [redacted DB_PASSWORD] failed", Redactor.Redact("login with hunter22 failed"));

    [Fact]
    public void Redact_EachLineOfAMultiLineSecret_IsMaskedOnItsOwn()
    {
        var redactor = new SecretRedactor(new Dictionary<string, string> { ["PEM_KEY"] = "-----BEGIN KEY-----\r\nMIIEvQIBADAN\nBgkqhkiG9w0B\n-----END KEY-----" });

        Assert.Equal("[redacted PEM_KEY]", redactor.Redact("MIIEvQIBADAN"));
        Assert.Equal("key line: [redacted PEM_KEY]", redactor.Redact("key line: BgkqhkiG9w0B"));
    }

    [Fact]
    public void Redact_EveryOccurrence_IsMasked() =>
        Assert.Equal("[redacted DB_PASSWORD][redacted DB_PASSWORD] and [redacted DB_PASSWORD]", Redactor.Redact("hunter22hunter22 and hunter22"));

    [Fact]
    public void Redact_OverlappingValues_LongestWins() =>
        Assert.Equal("connecting to [redacted DATABASE_URL]", Redactor.Redact("connecting to postgres://shop:hunter22@db/shop"));

    [Fact]
    public void Redact_ValueSharedByTwoNames_NamesBoth() =>
        Assert.Equal("token=[redacted ALIAS_TOKEN|API_TOKEN]", Redactor.Redact("token=tok_abcdef"));

    [Fact]
    public void Redact_ShortValues_AreLeftAlone() =>
        Assert.Equal("workers=1", Redactor.Redact("workers=1"));

    [Fact]
    public void Redact_TextWithoutSecrets_IsReturnedAsIs()
    {
        const string text = "GET /health 200";

        Assert.Same(text, Redactor.Redact(text));
    }

    [Fact]
    public void Redact_NoSecrets_ChangesNothing() =>
        Assert.Equal("hunter22", SecretRedactor.Empty.Redact("hunter22"));

    [Fact]
    public void A_value_given_twice_under_one_name_is_masked_with_the_name_once()
    {
        var redactor = new SecretRedactor([new("API_TOKEN", "tok-live-8f3a9c2e"), new("API_TOKEN", "tok-live-8f3a9c2e"), new("API_TOKEN", "tok-next-00000000")]);
        Assert.Equal("[redacted API_TOKEN] then [redacted API_TOKEN]", redactor.Redact("tok-live-8f3a9c2e then tok-next-00000000"));
    }
}

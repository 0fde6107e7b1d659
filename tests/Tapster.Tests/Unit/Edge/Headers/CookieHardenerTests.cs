using System.Text;
using Tapster.Edge.Headers;

namespace Tapster.Tests.Unit.Edge.Headers;

public sealed class CookieHardenerTests
{
    private static readonly CookieHardener Defaults = new(new HeaderSettings());

    [Theory]
    [InlineData("id=1", "None")]
    [InlineData("id=1; Secure; HttpOnly; SameSite=Strict", "Secure, HttpOnly, SameSite")]
    [InlineData("id=1;secure;httponly", "Secure, HttpOnly")]
    [InlineData("id=1;  SECURE  ; samesite = none", "Secure, SameSite")]
    [InlineData("id=1; Path=/; Max-Age=60", "None")]
    [InlineData("Secure=HttpOnly", "None")]
    [InlineData("pref=secure-httponly-samesite=lax; Path=/secure", "None")]
    [InlineData("id=1; Domain=secure.example; Comment=HttpOnly", "None")]
    [InlineData("id=1; Secure=yes", "Secure")]
    [InlineData("id=1; HttpOnlyX; XSecure", "None")]
    public void Attributes_ParsesAttributeNamesNotValues(string setCookie, string expected) =>
        Assert.Equal(expected, CookieHardener.Attributes(Encoding.Latin1.GetBytes(setCookie)).ToString());

    [Fact]
    public void Harden_PlainCookieOverHttp_GetsHttpOnlyAndSameSiteButNotSecure() =>
        Assert.Equal("id=1; Path=/; HttpOnly; SameSite=Lax", Harden(Defaults, "id=1; Path=/", isHttps: false));

    [Fact]
    public void Harden_PlainCookieOverHttps_GetsAllThree() =>
        Assert.Equal("id=1; Secure; HttpOnly; SameSite=Lax", Harden(Defaults, "id=1", isHttps: true));

    [Theory]
    [InlineData("csrftoken=abc; Path=/", "csrftoken=abc; Path=/; Secure; SameSite=Lax")]
    [InlineData("XSRF-TOKEN=abc", "XSRF-TOKEN=abc; Secure; SameSite=Lax")]
    [InlineData(" _xsrf =abc", " _xsrf =abc; Secure; SameSite=Lax")]
    [InlineData("CSRFTOKEN=abc", "CSRFTOKEN=abc; Secure; HttpOnly; SameSite=Lax")]
    [InlineData("session=csrftoken", "session=csrftoken; Secure; HttpOnly; SameSite=Lax")]
    public void Harden_ACsrfTokenCookieThatScriptsMustRead_GetsNoHttpOnly(string setCookie, string expected) =>
        Assert.Equal(expected, Harden(Defaults, setCookie, isHttps: true));

    [Fact]
    public void Harden_TheScriptReadableNames_AreTheOperatorsToChoose() =>
        Assert.Equal("csrftoken=abc; HttpOnly; SameSite=Lax", Harden(new CookieHardener(new HeaderSettings { CookieHttpOnlyExcept = ["my_token"] }), "csrftoken=abc", isHttps: false));

    [Fact]
    public void Harden_CookieWithEveryAttribute_IsLeftAsItIs() =>
        Assert.Equal("id=1; secure; HTTPONLY; SameSite=None", Harden(Defaults, "id=1; secure; HTTPONLY; SameSite=None", isHttps: true));

    [Fact]
    public void Harden_CookieWhoseValueSaysSecure_StillGetsSecure() =>
        Assert.Equal("token=secure; HttpOnly; Secure; SameSite=Lax", Harden(Defaults, "token=secure; HttpOnly", isHttps: true));

    [Fact]
    public void Harden_EachAttributeTurnedOff_IsNotAdded()
    {
        var none = new CookieHardener(new HeaderSettings { CookieSecure = false, CookieHttpOnly = false, CookieSameSite = "" });
        var strictOnly = new CookieHardener(new HeaderSettings { CookieSecure = false, CookieHttpOnly = false, CookieSameSite = "Strict" });

        Assert.Equal("id=1", Harden(none, "id=1", isHttps: true));
        Assert.Equal("id=1; SameSite=Strict", Harden(strictOnly, "id=1", isHttps: true));
    }

    [Fact]
    public void Harden_Latin1Bytes_KeepOneCharPerByte()
    {
        var bytes = new byte[] { (byte)'n', (byte)'=', 0xE9, 0xFF };
        var hardened = Defaults.Harden(bytes, isHttps: false);

        Assert.Equal("n=\u00e9\u00ff; HttpOnly; SameSite=Lax", hardened);
    }

    [Fact]
    public void Harden_LongCookie_IsKeptWhole()
    {
        var value = "big=" + new string('x', 5000);

        Assert.Equal(value + "; HttpOnly; SameSite=Lax", Harden(Defaults, value, isHttps: false));
    }

    private static string Harden(CookieHardener hardener, string setCookie, bool isHttps) =>
        hardener.Harden(Encoding.Latin1.GetBytes(setCookie), isHttps);
}

namespace Tapster.Edge.Headers;

/// <summary>The Set-Cookie attributes Tapster may add.</summary>
[Flags]
internal enum CookieAttributes
{
    None = 0,
    Secure = 1,
    HttpOnly = 2,
    SameSite = 4,
}

namespace Tapster.Edge.Headers;

/// <summary>
/// <c>[cors]</c>: which other origins' pages may call the app from a browser. No origin by default, so
/// nothing is allowed and OPTIONS requests reach the app as they always did.
/// </summary>
internal sealed record CorsSettings
{
    /// <summary>Exact origins (<c>https://shop.example</c>), or <c>*</c> for any when credentials are off.</summary>
    public IReadOnlyList<string> AllowOrigins { get; init; } = [];

    /// <summary>The CORS-safelisted methods: what browsers send cross-origin without asking anyway.</summary>
    public IReadOnlyList<string> AllowMethods { get; init; } = ["GET", "HEAD", "POST"];

    public IReadOnlyList<string> AllowHeaders { get; init; } = [];

    public IReadOnlyList<string> ExposeHeaders { get; init; } = [];

    public bool AllowCredentials { get; init; }

    /// <summary>Ten minutes: Chromium's cap is two hours, and a shorter cache lets a changed policy arrive soon.</summary>
    public TimeSpan MaxAge { get; init; } = TimeSpan.FromMinutes(10);

    public bool Enabled => AllowOrigins.Count > 0;
}

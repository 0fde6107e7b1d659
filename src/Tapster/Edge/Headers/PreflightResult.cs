namespace Tapster.Edge.Headers;

/// <summary>What <see cref="CorsPolicy"/> made of a request.</summary>
internal enum PreflightResult
{
    /// <summary>Not a CORS preflight, or CORS is off: the app answers it.</summary>
    NotPreflight,

    Allowed,

    Refused,
}

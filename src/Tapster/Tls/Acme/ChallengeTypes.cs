namespace Tapster.Tls.Acme;

/// <summary>The challenge types Tapster answers (RFC 8555 8.3, RFC 8737).</summary>
internal static class ChallengeTypes
{
    public const string Http01 = "http-01";
    public const string TlsAlpn01 = "tls-alpn-01";
}

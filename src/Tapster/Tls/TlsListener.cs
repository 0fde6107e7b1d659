using System.Net.Security;
using System.Runtime.Versioning;
using System.Security.Authentication;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Tapster.Tls.Acme;

namespace Tapster.Tls;

/// <summary>
/// The HTTPS side of a listener: TLS 1.2 and 1.3 only, forward-secret AEAD ciphers, HTTP/2 or
/// HTTP/1.1 by ALPN, and the certificate picked per handshake from the current set by SNI. With ACME
/// TLS-ALPN-01 on, a validation handshake gets its challenge certificate and <c>acme-tls/1</c> instead.
/// </summary>
internal static class TlsListener
{
    public static void Configure(ListenOptions listen, ServedCertificates certificates, TlsAlpn01Responder? acmeChallenges)
    {
        listen.Protocols = HttpProtocols.Http1AndHttp2;
        acmeChallenges?.Configure(listen);
        listen.UseHttps(new TlsHandshakeCallbackOptions
        {
            OnConnection = context =>
            {
                var serverName = context.ClientHelloInfo.ServerName;
                var challenge = acmeChallenges?.ChallengeFor(context.Connection, serverName);
                var options = new SslServerAuthenticationOptions
                {
                    ServerCertificateContext = challenge ?? certificates.Select(serverName)?.Context
                        // Only while ACME gets the first certificate: the handshake fails, the log says why.
                        ?? throw new AuthenticationException($"no certificate yet for '{serverName}'"),
                    EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
                    ApplicationProtocols = challenge is null ? [SslApplicationProtocol.Http2, SslApplicationProtocol.Http11] : [TlsAlpn01Responder.AcmeTls1],
                    ClientCertificateRequired = false,
                };
                if (OperatingSystem.IsLinux())
                {
                    options.CipherSuitesPolicy = ModernCiphers;
                }

                return ValueTask.FromResult(options);
            },
        });
    }

    /// <summary>Mozilla's "intermediate" TLS 1.2 list (ECDHE key exchange, AEAD only), plus every TLS 1.3 suite.</summary>
    [SupportedOSPlatform("linux")]
    private static CipherSuitesPolicy ModernCiphers => field ??= new CipherSuitesPolicy(
    [
        TlsCipherSuite.TLS_AES_128_GCM_SHA256,
        TlsCipherSuite.TLS_AES_256_GCM_SHA384,
        TlsCipherSuite.TLS_CHACHA20_POLY1305_SHA256,
        TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
        TlsCipherSuite.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
        TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
        TlsCipherSuite.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
        TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
        TlsCipherSuite.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
    ]);
}

using System.Buffers;
using System.Collections.Concurrent;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Tapster.Tls.Acme;

/// <summary>
/// Answers TLS-ALPN-01 challenges (RFC 8737): a handshake that offers ALPN <c>acme-tls/1</c> for a
/// name an order waits on gets a self-signed certificate carrying SHA-256(key authorization) in the
/// critical id-pe-acmeIdentifier extension, and <c>acme-tls/1</c> is agreed. A connection middleware
/// in front of TLS peeks at the ClientHello for the ALPN list (only while a challenge is pending) and
/// marks the connection; the handshake callback then picks the challenge certificate.
/// </summary>
internal sealed class TlsAlpn01Responder
{
    public static readonly SslApplicationProtocol AcmeTls1 = new("acme-tls/1");

    /// <summary>RFC 8737 3: id-pe-acmeIdentifier.</summary>
    private const string AcmeIdentifierOid = "1.3.6.1.5.5.7.1.31";

    private const string OffersAcmeTls1 = "tapster.acme-tls/1";

    /// <summary>Kestrel's own TLS handshake timeout: a client that sends half a ClientHello is not waited on longer.</summary>
    private static readonly TimeSpan PeekTimeout = TimeSpan.FromSeconds(10);

    private readonly ConcurrentDictionary<string, SslStreamCertificateContext> _challenges = new(StringComparer.OrdinalIgnoreCase);

    public void Add(string domain, string keyAuthorization) =>
        _challenges[domain] = SslStreamCertificateContext.Create(CreateChallengeCertificate(domain, keyAuthorization), additionalCertificates: null, offline: true);

    public void Remove(string domain) => _challenges.TryRemove(domain, out _);

    /// <summary>Adds the ClientHello peek; call before UseHttps, so it runs first.</summary>
    public void Configure(ListenOptions listen) => listen.Use(next => async connection =>
    {
        if (!_challenges.IsEmpty && (await PeekProtocolsAsync(connection).ConfigureAwait(false)).Contains(AcmeTls1.ToString()))
        {
            connection.Items[OffersAcmeTls1] = true;
        }

        await next(connection).ConfigureAwait(false);
    });

    /// <summary>The challenge certificate when this handshake is a validation of <paramref name="serverName"/>; else null.</summary>
    public SslStreamCertificateContext? ChallengeFor(ConnectionContext connection, string? serverName) =>
        serverName is not null && connection.Items.ContainsKey(OffersAcmeTls1) && _challenges.TryGetValue(serverName.TrimEnd('.'), out var challenge)
            ? challenge
            : null;

    /// <summary>RFC 8737 3: the name as the only SAN, the extension critical, its value the DER OCTET STRING of the digest.</summary>
    public static X509Certificate2 CreateChallengeCertificate(string domain, string keyAuthorization)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = CertificateOrder.RequestFor(domain, key);
        byte[] digest = SHA256.HashData(System.Text.Encoding.ASCII.GetBytes(keyAuthorization));
        request.CertificateExtensions.Add(new X509Extension(new Oid(AcmeIdentifierOid), [0x04, (byte)digest.Length, .. digest], critical: true));
        var now = DateTimeOffset.UtcNow;
        return request.CreateSelfSigned(now.AddDays(-1), now.AddDays(7));
    }

    /// <summary>
    /// Reads the first TLS record without consuming it: the TLS layer reads the same bytes after. A
    /// client too slow to send it offers nothing, and the TLS layer's own timeout deals with it.
    /// </summary>
    private static async ValueTask<IReadOnlyList<string>> PeekProtocolsAsync(ConnectionContext connection)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(connection.ConnectionClosed);
        timeout.CancelAfter(PeekTimeout);
        try
        {
            return await ReadFirstRecordProtocolsAsync(connection, timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return [];
        }
    }

    private static async ValueTask<IReadOnlyList<string>> ReadFirstRecordProtocolsAsync(ConnectionContext connection, CancellationToken cancel)
    {
        var input = connection.Transport.Input;
        while (true)
        {
            var result = await input.ReadAsync(cancel).ConfigureAwait(false);
            var buffer = result.Buffer;
            var head = buffer.Slice(0, Math.Min(buffer.Length, ClientHelloAlpn.MaxRecord)).ToArray();
            var decided = ClientHelloAlpn.TryRead(head, out var protocols) || result.IsCompleted || head.Length == ClientHelloAlpn.MaxRecord;
            input.AdvanceTo(buffer.Start, decided ? buffer.Start : buffer.End);
            if (decided)
            {
                return protocols;
            }
        }
    }
}

using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Tapster.Tls.Acme;

/// <summary>
/// The ACME account's ECDSA P-256 key and the JWS (RFC 7515) requests it signs: ES256, flattened JSON
/// serialization, base64url without padding (RFC 8555 6.2).
/// </summary>
internal sealed class AccountKey : IDisposable
{
    private readonly ECDsa _key;

    public AccountKey(ECDsa key)
    {
        if (key.KeySize != 256)
        {
            throw new ArgumentException("the account key must be ECDSA P-256 (ES256)", nameof(key));
        }

        _key = key;
        var parameters = key.ExportParameters(includePrivateParameters: false);
        // RFC 7638 3.2: the required members only, in lexicographic order, no whitespace; the same
        // text serves as the jwk header, so the thumbprint is of exactly what the CA saw.
        Jwk = $$"""{"crv":"P-256","kty":"EC","x":"{{Base64Url.EncodeToString(parameters.Q.X)}}","y":"{{Base64Url.EncodeToString(parameters.Q.Y)}}"}""";
        Thumbprint = Base64Url.EncodeToString(SHA256.HashData(Encoding.UTF8.GetBytes(Jwk)));
    }

    /// <summary>The public key as a JWK, in RFC 7638's canonical form.</summary>
    public string Jwk { get; }

    /// <summary>The RFC 7638 SHA-256 thumbprint, base64url: the second half of every key authorization.</summary>
    public string Thumbprint { get; }

    public static AccountKey Create() => new(ECDsa.Create(ECCurve.NamedCurves.nistP256));

    public static AccountKey FromPem(string pem)
    {
        var key = ECDsa.Create();
        key.ImportFromPem(pem);
        return new AccountKey(key);
    }

    public string ExportPem() => _key.ExportPkcs8PrivateKeyPem();

    /// <summary>RFC 8555 8.1: token "." thumbprint, what the CA expects to find for a challenge.</summary>
    public string KeyAuthorization(string token) => $"{token}.{Thumbprint}";

    /// <summary>
    /// A signed request body. Until the account exists it carries the whole key (<c>jwk</c>, for
    /// newAccount); after, the account URL (<c>kid</c>). A null payload is POST-as-GET: an empty string,
    /// not "{}" (RFC 8555 6.3).
    /// </summary>
    public byte[] Sign(Uri url, string nonce, Uri? accountUrl, byte[]? payload)
    {
        var header = new StringBuilder("{\"alg\":\"ES256\",");
        header.Append(accountUrl is null ? $"\"jwk\":{Jwk}" : $"\"kid\":{JsonString(accountUrl.AbsoluteUri)}");
        header.Append($",\"nonce\":{JsonString(nonce)},\"url\":{JsonString(url.AbsoluteUri)}}}");
        var protectedPart = Base64Url.EncodeToString(Encoding.UTF8.GetBytes(header.ToString()));
        var payloadPart = payload is null ? "" : Base64Url.EncodeToString(payload);
        // ES256 is the raw r||s pair (RFC 7518 3.4), .NET's IEEE P1363 format, not DER.
        var signature = _key.SignData(Encoding.ASCII.GetBytes($"{protectedPart}.{payloadPart}"), HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);

        return AcmeClient.Json(json =>
        {
            json.WriteString("protected", protectedPart);
            json.WriteString("payload", payloadPart);
            json.WriteString("signature", Base64Url.EncodeToString(signature));
        });
    }

    public void Dispose() => _key.Dispose();

    private static string JsonString(string text) => $"\"{JsonEncodedText.Encode(text)}\"";
}

using System.Buffers.Text;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;

namespace Tapster.Tls.Acme;

/// <summary>
/// Gets one certificate for one host name (RFC 8555 7.4): a new order, each authorization proven by
/// the configured challenge, the order finalized with a CSR for a fresh key, the chain downloaded.
/// </summary>
internal sealed class CertificateOrder(AcmeClient client, string challengeType, Http01Responder http01, TlsAlpn01Responder tlsAlpn01, TimeProvider time)
{
    private const string PemChain = "application/pem-certificate-chain";

    /// <summary>When the server gives no Retry-After, poll this often: quick for a test CA, gentle enough for a real one.</summary>
    private static readonly TimeSpan DefaultPollInterval = TimeSpan.FromSeconds(1);

    /// <summary>A longer Retry-After is honoured up to this, so one slow answer cannot stall the order for hours.</summary>
    private static readonly TimeSpan LongestPollInterval = TimeSpan.FromMinutes(1);

    /// <summary>The certificate chain (PEM, leaf first) and its new private key (PEM).</summary>
    public async Task<(string ChainPem, string KeyPem)> ObtainAsync(string domain, CancellationToken cancel)
    {
        var directory = await client.DirectoryAsync(cancel).ConfigureAwait(false);
        var created = await client.PostAsync(directory.NewOrder, AcmeClient.Json(json =>
        {
            json.WriteStartArray("identifiers");
            json.WriteStartObject();
            json.WriteString("type", "dns");
            json.WriteString("value", domain);
            json.WriteEndObject();
            json.WriteEndArray();
        }), cancel).ConfigureAwait(false);
        var orderUrl = created.Location ?? throw new AcmeException("the ACME server created the order but gave no order URL (Location)");
        var order = created.Json();

        foreach (var authorization in order.GetProperty("authorizations").EnumerateArray())
        {
            await AuthorizeAsync(new Uri(authorization.GetString()!), domain, cancel).ConfigureAwait(false);
        }

        order = await PollAsync(orderUrl, "ready", after: null, cancel).ConfigureAwait(false);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var finalized = await client.PostAsync(AcmeDirectory.Url(order, "finalize"), AcmeClient.Json(json => json.WriteString("csr", Base64Url.EncodeToString(SigningRequest(domain, key)))), cancel).ConfigureAwait(false);
        var finalizedOrder = finalized.Json();
        order = Status(finalizedOrder) == "valid" ? finalizedOrder : await PollAsync(orderUrl, "valid", finalized, cancel).ConfigureAwait(false);
        var chain = await client.PostAsync(AcmeDirectory.Url(order, "certificate"), null, cancel, accept: PemChain).ConfigureAwait(false);
        return (chain.Body, key.ExportPkcs8PrivateKeyPem());
    }

    /// <summary>A CSR for <paramref name="domain"/> alone.</summary>
    public static byte[] SigningRequest(string domain, ECDsa key) => RequestFor(domain, key).CreateSigningRequest();

    /// <summary>A certificate request naming <paramref name="domain"/> alone, in its SAN as CAs require (the CN is only for old tools).</summary>
    public static CertificateRequest RequestFor(string domain, ECDsa key)
    {
        var request = new CertificateRequest($"CN={domain}", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName(domain);
        request.CertificateExtensions.Add(san.Build());
        return request;
    }

    private async Task AuthorizeAsync(Uri url, string domain, CancellationToken cancel)
    {
        var authorization = (await client.PostAsync(url, null, cancel).ConfigureAwait(false)).Json();
        if (Status(authorization) == "valid")
        {
            // Proven recently for this account: the CA reuses it (RFC 8555 7.1.4).
            return;
        }

        var challenge = authorization.GetProperty("challenges").EnumerateArray()
            .FirstOrDefault(c => c.TryGetProperty("type", out var type) && type.GetString() == challengeType);
        if (challenge.ValueKind != JsonValueKind.Object)
        {
            throw new AcmeException($"the ACME server offers no {challengeType} challenge for {domain}");
        }

        var token = challenge.GetProperty("token").GetString()!;
        var keyAuthorization = client.Key.KeyAuthorization(token);
        if (challengeType == ChallengeTypes.Http01)
        {
            http01.Add(token, keyAuthorization);
        }
        else
        {
            tlsAlpn01.Add(domain, keyAuthorization);
        }

        try
        {
            // "{}" tells the CA to validate now (RFC 8555 7.5.1).
            var started = await client.PostAsync(AcmeDirectory.Url(challenge, "url"), "{}"u8.ToArray(), cancel).ConfigureAwait(false);
            await PollAsync(url, "valid", started, cancel).ConfigureAwait(false);
        }
        finally
        {
            http01.Remove(token);
            tlsAlpn01.Remove(domain);
        }
    }

    /// <summary>
    /// Reads the resource until its status is <paramref name="wanted"/>; "invalid" ends it with the
    /// CA's reason. After a request that set work going (<paramref name="after"/>: a challenge, a
    /// finalization), the first read waits as that answer asks, since the work takes time anyway.
    /// </summary>
    private async Task<JsonElement> PollAsync(Uri url, string wanted, AcmeResponse? after, CancellationToken cancel)
    {
        if (after is not null)
        {
            await Task.Delay(PollInterval(after), time, cancel).ConfigureAwait(false);
        }

        while (true)
        {
            var response = await client.PostAsync(url, null, cancel).ConfigureAwait(false);
            var resource = response.Json();
            var status = Status(resource);
            if (status == wanted)
            {
                return resource;
            }

            if (status is "invalid" or "deactivated" or "expired" or "revoked")
            {
                throw new AcmeException($"{url} is {status}: {Reason(resource)}");
            }

            await Task.Delay(PollInterval(response), time, cancel).ConfigureAwait(false);
        }
    }

    /// <summary>The answer's Retry-After (RFC 8555 7.5.1, 7.4), within reason; the default when it has none.</summary>
    private static TimeSpan PollInterval(AcmeResponse response) =>
        response.RetryAfter is { } retryAfter && retryAfter > TimeSpan.Zero
            ? (retryAfter < LongestPollInterval ? retryAfter : LongestPollInterval)
            : DefaultPollInterval;

    private static string? Status(JsonElement resource) =>
        resource.TryGetProperty("status", out var status) ? status.GetString() : null;

    /// <summary>The problem of a failed order, or of its failed challenge.</summary>
    private static string Reason(JsonElement resource)
    {
        if (resource.TryGetProperty("error", out var error))
        {
            return error.TryGetProperty("detail", out var detail) ? detail.GetString() ?? error.ToString() : error.ToString();
        }

        var failed = resource.TryGetProperty("challenges", out var challenges)
            ? challenges.EnumerateArray().FirstOrDefault(c => c.TryGetProperty("error", out _))
            : default;
        return failed.ValueKind == JsonValueKind.Object
            ? $"{failed.GetProperty("type").GetString()}: {Reason(failed)}"
            : "no reason given";
    }
}

using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Tapster.Tls.Acme;

/// <summary>
/// Talks to one ACME server as one account: fetches the directory, keeps the replay nonce, signs every
/// POST (RFC 8555 6.2) and turns problem documents into <see cref="AcmeException"/>s. Requests go one
/// at a time, so concurrent orders never spend the same nonce.
/// </summary>
internal sealed class AcmeClient(HttpClient http, Uri directoryUrl, AccountKey key) : IDisposable
{
    private const string JoseJson = "application/jose+json";
    private const string BadNonce = "urn:ietf:params:acme:error:badNonce";

    /// <summary>RFC 8555 6.5: a badNonce answer carries a fresh nonce; a CA that keeps refusing is broken, not unlucky.</summary>
    private const int BadNonceRetries = 5;

    private readonly SemaphoreSlim _oneAtATime = new(1, 1);
    private AcmeDirectory? _directory;
    private string? _nonce;
    private Uri? _account;

    public AccountKey Key => key;

    /// <summary>
    /// Registers the account, or finds it again: newAccount with a known key answers with its URL (RFC
    /// 8555 7.3.1), so two orders racing here both get the same one.
    /// </summary>
    public async Task RegisterAsync(string? email, CancellationToken cancel)
    {
        if (_account is not null)
        {
            return;
        }

        var directory = await DirectoryAsync(cancel).ConfigureAwait(false);
        var payload = Json(json =>
        {
            // Tapster's operator agrees by configuring ACME; the docs say so.
            json.WriteBoolean("termsOfServiceAgreed", true);
            if (email is not null)
            {
                json.WriteStartArray("contact");
                json.WriteStringValue($"mailto:{email}");
                json.WriteEndArray();
            }
        });
        var response = await PostAsync(directory.NewAccount, payload, cancel).ConfigureAwait(false);
        _account = response.Location ?? throw new AcmeException("the ACME server created the account but gave no account URL (Location)");
    }

    public async Task<AcmeDirectory> DirectoryAsync(CancellationToken cancel)
    {
        if (_directory is { } known)
        {
            return known;
        }

        using var response = await http.GetAsync(directoryUrl, cancel).ConfigureAwait(false);
        var body = await response.Content.ReadAsStringAsync(cancel).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            throw new AcmeException($"the ACME directory {directoryUrl} answered {(int)response.StatusCode}");
        }

        try
        {
            using var document = JsonDocument.Parse(body);
            return _directory = AcmeDirectory.Parse(document.RootElement);
        }
        catch (JsonException)
        {
            throw new AcmeException($"the ACME directory {directoryUrl} is not JSON");
        }
    }

    /// <summary>A signed POST; a null payload is POST-as-GET, how ACME reads a resource (RFC 8555 6.3).</summary>
    public async Task<AcmeResponse> PostAsync(Uri url, byte[]? payload, CancellationToken cancel, string? accept = null)
    {
        await _oneAtATime.WaitAsync(cancel).ConfigureAwait(false);
        try
        {
            for (var attempt = 0; ; attempt++)
            {
                var nonce = _nonce ?? await NewNonceAsync(cancel).ConfigureAwait(false);
                _nonce = null;
                // RFC 8555 6.2: newAccount is signed with the key itself (jwk), everything else names the account (kid).
                var account = url == _directory?.NewAccount ? null : _account;
                using var request = new HttpRequestMessage(HttpMethod.Post, url)
                {
                    Content = new ByteArrayContent(key.Sign(url, nonce, account, payload)),
                };
                request.Content.Headers.ContentType = new MediaTypeHeaderValue(JoseJson);
                if (accept is not null)
                {
                    request.Headers.Accept.ParseAdd(accept);
                }

                using var response = await http.SendAsync(request, cancel).ConfigureAwait(false);
                KeepNonce(response);
                var body = await response.Content.ReadAsStringAsync(cancel).ConfigureAwait(false);
                if (response.IsSuccessStatusCode)
                {
                    return new AcmeResponse(response.Headers.Location, RetryAfter(response), body);
                }

                var problem = Problem(url, response.StatusCode, body);
                // The error's own Replay-Nonce is the one to retry with (kept above).
                if (problem.ProblemType != BadNonce || attempt == BadNonceRetries || _nonce is null)
                {
                    throw problem;
                }
            }
        }
        finally
        {
            _oneAtATime.Release();
        }
    }

    public void Dispose() => _oneAtATime.Dispose();

    /// <summary>A JSON payload built by <paramref name="members"/> inside one object.</summary>
    public static byte[] Json(Action<Utf8JsonWriter> members)
    {
        using var body = new MemoryStream();
        using (var json = new Utf8JsonWriter(body))
        {
            json.WriteStartObject();
            members(json);
            json.WriteEndObject();
        }

        return body.ToArray();
    }

    /// <summary>How long the server asks us to wait before asking again (RFC 8555 7.5.1, 8.2), when it says.</summary>
    private static TimeSpan? RetryAfter(HttpResponseMessage response) => response.Headers.RetryAfter switch
    {
        { Delta: { } delta } => delta,
        { Date: { } date } => date - DateTimeOffset.UtcNow,
        _ => null,
    };

    private static AcmeException Problem(Uri url, HttpStatusCode status, string body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            var root = document.RootElement;
            var type = root.TryGetProperty("type", out var t) ? t.GetString() : null;
            var detail = root.TryGetProperty("detail", out var d) ? d.GetString() : null;
            var message = new StringBuilder($"{url} answered {(int)status} {type}: {detail}");
            if (root.TryGetProperty("subproblems", out var subproblems) && subproblems.ValueKind == JsonValueKind.Array)
            {
                foreach (var sub in subproblems.EnumerateArray())
                {
                    message.Append($"; {(sub.TryGetProperty("detail", out var subDetail) ? subDetail.GetString() : sub.ToString())}");
                }
            }

            return new AcmeException(message.ToString(), type);
        }
        catch (JsonException)
        {
            return new AcmeException($"{url} answered {(int)status} without a problem document");
        }
    }

    private async Task<string> NewNonceAsync(CancellationToken cancel)
    {
        var directory = await DirectoryAsync(cancel).ConfigureAwait(false);
        using var request = new HttpRequestMessage(HttpMethod.Head, directory.NewNonce);
        using var response = await http.SendAsync(request, cancel).ConfigureAwait(false);
        KeepNonce(response);
        return _nonce ?? throw new AcmeException($"{directory.NewNonce} gave no Replay-Nonce");
    }

    private void KeepNonce(HttpResponseMessage response)
    {
        if (response.Headers.TryGetValues("Replay-Nonce", out var values))
        {
            _nonce = values.FirstOrDefault();
        }
    }
}

using System.Text.Json;

namespace Tapster.Tls.Acme;

/// <summary>A successful answer of the ACME server: what the order flow reads from it.</summary>
internal sealed record AcmeResponse(Uri? Location, TimeSpan? RetryAfter, string Body)
{
    public JsonElement Json()
    {
        using var document = JsonDocument.Parse(Body);
        return document.RootElement.Clone();
    }
}

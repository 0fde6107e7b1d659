using System.Text.Json;

namespace Tapster.Tls.Acme;

/// <summary>The resources of an ACME server that Tapster uses (RFC 8555 7.1.1).</summary>
internal sealed record AcmeDirectory(Uri NewNonce, Uri NewAccount, Uri NewOrder)
{
    public static AcmeDirectory Parse(JsonElement json) => new(Url(json, "newNonce"), Url(json, "newAccount"), Url(json, "newOrder"));

    /// <summary>A URL member of an ACME object, or an <see cref="AcmeException"/> naming what is missing.</summary>
    public static Uri Url(JsonElement json, string member) =>
        json.ValueKind == JsonValueKind.Object && json.TryGetProperty(member, out var value) && value.ValueKind == JsonValueKind.String
            && Uri.TryCreate(value.GetString(), UriKind.Absolute, out var url)
            ? url
            : throw new AcmeException($"the ACME server's answer has no '{member}' URL");
}

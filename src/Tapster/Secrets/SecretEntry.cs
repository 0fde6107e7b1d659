namespace Tapster.Secrets;

/// <summary>One decrypted secret. <see cref="ToString"/> leaves the value out, so it cannot reach a log by accident.</summary>
internal sealed record SecretEntry(string Name, string Value, DateTimeOffset ChangedAt)
{
    public override string ToString() => $"{Name} (changed {ChangedAt:u})";
}

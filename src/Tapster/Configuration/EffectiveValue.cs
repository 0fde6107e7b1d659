namespace Tapster.Configuration;

/// <summary>A line of <c>config show</c>: a key, its value as TOML, and where the value came from.</summary>
internal sealed record EffectiveValue(string Key, string Value, string Source, bool Secret)
{
    public const string Mask = "\"********\"";

    public string ShownValue => Secret ? Mask : Value;
}

namespace Tapster.Configuration;

/// <summary>What the configuration is made from, besides the file: flags, the environment, the directory.</summary>
internal sealed record ConfigInputs
{
    /// <summary>Flags given, by setting key, as text (a repeated flag's values joined with commas).</summary>
    public IReadOnlyDictionary<string, string> Flags { get; init; } = new Dictionary<string, string>();

    /// <summary><c>--config PATH</c>.</summary>
    public string? ConfigFlag { get; init; }

    /// <summary>Tapster's environment: the <c>TAPSTER_*</c> twins, and the base of the app's environment.</summary>
    public required IReadOnlyDictionary<string, string> Environment { get; init; }

    public required string WorkingDirectory { get; init; }
}

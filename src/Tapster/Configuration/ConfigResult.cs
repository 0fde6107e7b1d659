namespace Tapster.Configuration;

/// <summary>
/// The loaded configuration: settings fit to run only when <see cref="Errors"/> is empty; every
/// problem found otherwise, all at once.
/// </summary>
internal sealed record ConfigResult(ServeSettings Settings, IReadOnlyList<ConfigError> Errors, IReadOnlyList<EffectiveValue> Values, string? FileName);

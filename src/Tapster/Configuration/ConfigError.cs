namespace Tapster.Configuration;

/// <summary>
/// One configuration problem, worded to say what was expected. Problems in a file carry its location;
/// those of a flag or an environment variable start with its name.
/// </summary>
internal sealed record ConfigError(string Message, SourceLocation? Location = null)
{
    public override string ToString() => Location is null ? Message : $"{Location}: {Message}";
}

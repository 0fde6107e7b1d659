namespace Tapster.Configuration;

/// <summary>
/// One configuration problem, worded to say what was expected. Problems in a file carry its location;
/// those of a flag or an environment variable start with its name.
/// </summary>
internal sealed record ConfigError(string Message, SourceLocation? Location = null)
{
    /// <summary>
    /// A value quoted from a file, a flag or the environment may hold control characters (a "\n" escape
    /// in TOML): they are shown escaped, so an error stays one line, cannot pass for another line of
    /// the log, and cannot drive the operator's terminal.
    /// </summary>
    public string Message { get; } = Telemetry.TerminalText.Sanitize(Message);

    public override string ToString() => Location is null ? Message : $"{Location}: {Message}";
}

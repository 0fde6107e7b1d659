using Tapster.Telemetry;

namespace Tapster.Cli;

/// <summary>
/// The one line every refusal prints. Messages quote what the user gave (a flag value, a path, a
/// config key), and that may hold a newline or an escape sequence: shown escaped, the error stays one
/// line and cannot play tricks on the terminal.
/// </summary>
internal static class CliError
{
    public static string Line(string message) => $"tapster: error: {TerminalText.Sanitize(message)}";
}

namespace Tapster.Workers;

/// <summary>
/// Why the app never came up: a one-line summary for the user, the Python traceback when there is one,
/// and the exit code (2 = the APP spec or the interpreter is wrong, 3 = the app failed to import).
/// </summary>
internal sealed record BootFailure(string Summary, string? Traceback, int ExitCode)
{
    public const int SpecExitCode = 2;
    public const int ImportExitCode = 3;
}

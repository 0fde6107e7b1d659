using Tomlyn.Syntax;

namespace Tapster.Configuration;

/// <summary>
/// One type of setting value: how it reads from text (flags, environment), from a TOML value, and how
/// it prints back as TOML (for <c>config show</c> and the docs).
/// </summary>
internal sealed class ValueParser<T>
{
    /// <summary>What the value is, for the docs: "whole number", "duration".</summary>
    public required string TypeName { get; init; }

    /// <summary>The placeholder in <c>--help</c>: N, DURATION, SIZE.</summary>
    public required string HelpName { get; init; }

    public CliShape Shape { get; init; } = CliShape.Value;

    public required Func<string, Parsed<T>> FromText { get; init; }

    /// <summary>Reads a TOML value; the string is the config file's directory, for relative paths.</summary>
    public required Func<ValueSyntax, string, Parsed<T>> FromToml { get; init; }

    public required Func<T, string> Format { get; init; }
}

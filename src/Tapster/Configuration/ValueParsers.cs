using System.Globalization;
using Tomlyn.Syntax;

namespace Tapster.Configuration;

/// <summary>The value types settings are made of; every message says what was expected.</summary>
internal static class ValueParsers
{
    private const string DurationHint = "use seconds, or 500ms, 30s, 5m";
    private const string SizeHint = "use 512KB, 10MB, 100MiB, 1GiB";

    /// <summary>
    /// The longest wait any timer in Tapster (or under it: Kestrel, Task.Delay) can hold, 2^31 - 1 ms,
    /// rounded down: a longer timeout would be accepted and then fail when it is armed.
    /// </summary>
    public static readonly TimeSpan MaxDuration = TimeSpan.FromDays(24);

    public static ValueParser<int> WholeNumber { get; } = new()
    {
        TypeName = "whole number",
        HelpName = "N",
        FromText = ParseInt,
        FromToml = (value, _) => value switch
        {
            IntegerValueSyntax { Value: >= 0 and <= int.MaxValue } i => Parsed<int>.Ok((int)i.Value),
            IntegerValueSyntax i => Parsed<int>.Fail($"{i.Value} is out of range (0 to {int.MaxValue})"),
            StringValueSyntax s when int.TryParse(s.Value!, NumberStyles.None, CultureInfo.InvariantCulture, out int _) => Parsed<int>.Fail($"must be a whole number, got the string \"{s.Value}\" (write it without quotes: {s.Value})"),
            _ => Parsed<int>.Fail($"must be a whole number, got {Describe(value)}"),
        },
        Format = n => n.ToString(CultureInfo.InvariantCulture),
    };

    /// <summary>A worker count: a whole number, or "auto" for Gunicorn's recommended (2 x cores) + 1.</summary>
    public static ValueParser<int> WorkerCount { get; } = new()
    {
        TypeName = "whole number or \"auto\"",
        HelpName = "N",
        FromText = text => text.Trim() == "auto" ? Parsed<int>.Ok(AutoWorkers) : ParseInt(text),
        FromToml = (value, directory) => value is StringValueSyntax { Value: "auto" }
            ? Parsed<int>.Ok(AutoWorkers)
            : value is IntegerValueSyntax ? WholeNumber.FromToml(value, directory)
            : Parsed<int>.Fail($"must be a whole number or \"auto\", got {Describe(value)}"),
        Format = n => n.ToString(CultureInfo.InvariantCulture),
    };

    public static ValueParser<TimeSpan> Duration { get; } = new()
    {
        TypeName = "duration",
        HelpName = "DURATION",
        FromText = ParseDuration,
        FromToml = (value, _) => value switch
        {
            StringValueSyntax s => ParseDuration(s.Value!),
            IntegerValueSyntax i => ParseDuration(i.Value.ToString(CultureInfo.InvariantCulture)),
            FloatValueSyntax f => ParseDuration(f.Value.ToString(CultureInfo.InvariantCulture)),
            _ => Parsed<TimeSpan>.Fail($"must be a duration, got {Describe(value)} ({DurationHint})"),
        },
        Format = FormatDuration,
    };

    /// <summary>A size in bytes; a plain number is bytes.</summary>
    public static ValueParser<long> Size { get; } = SizeIn(1, "bytes");

    /// <summary>
    /// A size whose plain number is MiB: what <c>--max-body-size</c> and its environment twin always
    /// took, kept so existing command lines mean what they meant.
    /// </summary>
    public static ValueParser<long> SizeInMiB { get; } = SizeIn(1024 * 1024, "MiB");

    public static ValueParser<string> Text { get; } = new()
    {
        TypeName = "string",
        HelpName = "TEXT",
        FromText = Parsed<string>.Ok,
        FromToml = (value, _) => value is StringValueSyntax s ? Parsed<string>.Ok(s.Value!) : Parsed<string>.Fail($"must be a string, got {Describe(value)}"),
        Format = Quote,
    };

    /// <summary>An optional program: a name looked up on PATH, or a path (relative ones from the config file's directory).</summary>
    public static ValueParser<string?> Program { get; } = OptionalPath("PATH", resolve: (path, directory) => path.Contains('/', StringComparison.Ordinal) ? Path.GetFullPath(path, directory) : path);

    /// <summary>An optional directory; a relative one in the file is relative to the config file's directory.</summary>
    public static ValueParser<string?> Directory { get; } = OptionalPath("DIR", resolve: Path.GetFullPath);

    /// <summary>An optional file; a relative one in the file is relative to the config file's directory.</summary>
    public static ValueParser<string?> OptionalFile { get; } = OptionalPath("PATH", resolve: Path.GetFullPath);

    /// <summary>An optional string; null = not set, so the default applies.</summary>
    public static ValueParser<string?> OptionalText { get; } = new()
    {
        TypeName = Text.TypeName,
        HelpName = Text.HelpName,
        FromText = text => Parsed<string?>.Ok(text),
        FromToml = (value, _) => value is StringValueSyntax s ? Parsed<string?>.Ok(s.Value!) : Parsed<string?>.Fail($"must be a string, got {Describe(value)}"),
        Format = text => text is null ? "(unset)" : Quote(text),
    };

    public static ValueParser<IReadOnlyList<string>> TextList { get; } = new()
    {
        TypeName = "list of strings",
        HelpName = "TEXT",
        Shape = CliShape.List,
        FromText = text => Parsed<IReadOnlyList<string>>.Ok(text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)),
        FromToml = (value, _) => ReadStrings(value),
        Format = list => "[" + string.Join(", ", list.Select(Quote)) + "]",
    };

    /// <summary>Files that must exist, relative to the config file's directory.</summary>
    public static ValueParser<IReadOnlyList<string>> ExistingFiles { get; } = new()
    {
        TypeName = "list of file paths",
        HelpName = "PATH",
        Shape = CliShape.List,
        FromText = text => TextList.FromText(text),
        FromToml = (value, directory) =>
        {
            var strings = ReadStrings(value);
            if (strings.Error is not null)
            {
                return strings;
            }

            var paths = strings.Value.Select(p => Path.GetFullPath(p, directory)).ToList();
            var missing = strings.Value.Zip(paths).FirstOrDefault(p => !File.Exists(p.Second));
            return missing.First is null
                ? Parsed<IReadOnlyList<string>>.Ok(paths)
                : Parsed<IReadOnlyList<string>>.Fail($"'{missing.First}' does not exist (looked for {missing.Second}; paths are relative to the config file)");
        },
        Format = list => TextList.Format(list),
    };

    public static ValueParser<bool> Boolean { get; } = new()
    {
        TypeName = "boolean",
        HelpName = "BOOL",
        Shape = CliShape.Switch,
        FromText = ParseBool,
        FromToml = (value, _) => value is BooleanValueSyntax b ? Parsed<bool>.Ok(b.Value) : Parsed<bool>.Fail($"must be true or false, got {Describe(value)}"),
        Format = b => b ? "true" : "false",
    };

    /// <summary>A boolean whose flag says the opposite: <c>--no-preload</c> (and TAPSTER_NO_PRELOAD=1) set preload to false.</summary>
    public static ValueParser<bool> NegatedBoolean { get; } = new()
    {
        TypeName = Boolean.TypeName,
        HelpName = Boolean.HelpName,
        Shape = CliShape.Switch,
        FromText = text => ParseBool(text) is { Error: null } parsed ? Parsed<bool>.Ok(!parsed.Value) : ParseBool(text),
        FromToml = Boolean.FromToml,
        Format = Boolean.Format,
    };

    private static int AutoWorkers => (2 * Environment.ProcessorCount) + 1;

    /// <summary>Names a TOML value's type for a message: <c>a string ("x")</c>, <c>a boolean</c>.</summary>
    public static string Describe(ValueSyntax value) => value switch
    {
        StringValueSyntax s => $"a string (\"{s.Value}\")",
        IntegerValueSyntax i => $"a number ({i.Value})",
        FloatValueSyntax f => $"a number ({f.Value.ToString(CultureInfo.InvariantCulture)})",
        BooleanValueSyntax b => $"a boolean ({(b.Value ? "true" : "false")})",
        ArraySyntax => "an array",
        InlineTableSyntax => "a table",
        DateTimeValueSyntax => "a date",
        _ => "an unknown value",
    };

    public static string Quote(string text) => "\"" + text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";

    private static Parsed<int> ParseInt(string text) =>
        int.TryParse(text.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var value)
            ? Parsed<int>.Ok(value)
            : text.Trim() is { Length: > 0 } digits && digits.All(char.IsAsciiDigit)
                ? Parsed<int>.Fail($"'{text}' is too large (at most {int.MaxValue.ToString(CultureInfo.InvariantCulture)})")
                : Parsed<int>.Fail($"'{text}' is not a whole number");

    private static Parsed<TimeSpan> ParseDuration(string text)
    {
        if (!Configuration.Duration.TryParse(text, out var duration))
        {
            return Parsed<TimeSpan>.Fail($"'{text}' is not a duration ({DurationHint})");
        }

        return duration <= TimeSpan.Zero ? Parsed<TimeSpan>.Fail($"'{text}' must be longer than zero ({DurationHint})")
            : duration > MaxDuration ? Parsed<TimeSpan>.Fail($"'{text}' is longer than {MaxDuration.TotalDays.ToString(CultureInfo.InvariantCulture)} days, the longest wait Tapster's timers can hold")
            : Parsed<TimeSpan>.Ok(duration);
    }

    private static string FormatDuration(TimeSpan duration) =>
        Quote(duration.TotalMilliseconds % 1000 != 0 ? $"{duration.TotalMilliseconds.ToString(CultureInfo.InvariantCulture)}ms"
            : duration.TotalSeconds % 60 != 0 ? $"{duration.TotalSeconds.ToString(CultureInfo.InvariantCulture)}s"
            : $"{duration.TotalMinutes.ToString(CultureInfo.InvariantCulture)}m");

    private static ValueParser<long> SizeIn(long plainUnit, string plainName)
    {
        Parsed<long> Parse(string text) => ByteSize.TryParse(text, plainUnit, out var bytes)
            ? Parsed<long>.Ok(bytes)
            : Parsed<long>.Fail($"'{text}' is not a size ({SizeHint}; a plain number is {plainName})");
        return new()
        {
            TypeName = "size",
            HelpName = "SIZE",
            FromText = Parse,
            FromToml = (value, _) => value switch
            {
                StringValueSyntax s => Parse(s.Value!),
                IntegerValueSyntax { Value: >= 0 } i => Parsed<long>.Ok(i.Value * plainUnit),
                _ => Parsed<long>.Fail($"must be a size, got {Describe(value)} ({SizeHint})"),
            },
            Format = bytes => Quote(ByteSize.Format(bytes)),
        };
    }

    private static ValueParser<string?> OptionalPath(string helpName, Func<string, string, string> resolve) => new()
    {
        TypeName = "path",
        HelpName = helpName,
        // An empty path is a mistake (an unset shell variable), never "the default".
        FromText = text => text.Length > 0 ? Parsed<string?>.Ok(text) : Parsed<string?>.Fail("is empty: give a path, or leave the option out"),
        FromToml = (value, directory) => value is StringValueSyntax { Value: { Length: > 0 } path }
            ? Parsed<string?>.Ok(resolve(path, directory))
            : Parsed<string?>.Fail($"must be a path, got {Describe(value)}"),
        Format = path => path is null ? "(unset)" : Quote(path),
    };

    private static Parsed<IReadOnlyList<string>> ReadStrings(ValueSyntax value)
    {
        if (value is not ArraySyntax array)
        {
            var hint = value is StringValueSyntax s ? $" (write [\"{s.Value}\"])" : "";
            return Parsed<IReadOnlyList<string>>.Fail($"must be an array of strings, got {Describe(value)}{hint}");
        }

        var items = new List<string>();
        foreach (var item in array.Items)
        {
            if (item.Value is not StringValueSyntax text)
            {
                return Parsed<IReadOnlyList<string>>.Fail($"must be an array of strings, but one item is {Describe(item.Value!)}");
            }

            items.Add(text.Value!);
        }

        return Parsed<IReadOnlyList<string>>.Ok(items);
    }

    private static Parsed<bool> ParseBool(string text) => text.Trim().ToLowerInvariant() switch
    {
        "1" or "true" or "yes" or "on" => Parsed<bool>.Ok(true),
        "0" or "false" or "no" or "off" => Parsed<bool>.Ok(false),
        _ => Parsed<bool>.Fail($"'{text}' is not a boolean (use 1/true/yes/on or 0/false/no/off)"),
    };
}

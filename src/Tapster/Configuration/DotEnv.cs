using System.Text;

namespace Tapster.Configuration;

/// <summary>
/// Parses dotenv files (the config's <c>env_files</c>, <c>tapster secrets import</c>): the common subset that python-dotenv, Docker
/// Compose and Heroku agree on: <c>NAME=value</c> lines, an optional <c>export </c> prefix, blank lines and
/// <c>#</c> comments, values unquoted (trimmed; <c> #</c> starts a comment), in single quotes (literal,
/// may span lines) or in double quotes (may span lines; <c>\n \r \t \" \\</c> escapes). No <c>${VAR}</c>
/// expansion: a secret is stored exactly as written.
/// </summary>
internal static class DotEnv
{
    /// <summary>The assignments in file order (a repeated name keeps its last value and line); every error, with its line.</summary>
    public static (List<DotEnvEntry> Values, List<DotEnvError> Errors) Parse(string text)
    {
        var values = new List<DotEnvEntry>();
        var errors = new List<DotEnvError>();
        var lines = text.TrimStart('\uFEFF').ReplaceLineEndings("\n").Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var lineNumber = i + 1;
            var line = lines[i].Trim();
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }

            if (line.StartsWith("export ", StringComparison.Ordinal) || line.StartsWith("export\t", StringComparison.Ordinal))
            {
                line = line[7..].TrimStart();
            }

            var equals = line.IndexOf('=', StringComparison.Ordinal);
            if (equals < 0)
            {
                errors.Add(new DotEnvError(lineNumber, "expected NAME=VALUE"));
                continue;
            }

            var name = line[..equals].TrimEnd();
            if (!IsName(name))
            {
                errors.Add(new DotEnvError(lineNumber, NameProblem(name)));
                continue;
            }

            var rest = lines[i][(lines[i].IndexOf('=', StringComparison.Ordinal) + 1)..].TrimStart();
            string? value;
            string? error;
            if (rest.StartsWith('"') || rest.StartsWith('\''))
            {
                (value, error) = Quoted(lines, ref i, rest);
            }
            else
            {
                (value, error) = (Unquoted(rest), null);
            }

            if (error is not null)
            {
                errors.Add(new DotEnvError(lineNumber, $"{name}: {error}"));
                continue;
            }

            values.RemoveAll(v => v.Name == name);
            values.Add(new DotEnvEntry(name, value!, lineNumber));
        }

        return (values, errors);
    }

    /// <summary>
    /// Why the text before '=' is not a name, quoting only its valid start: past that it may be a
    /// secret written the wrong way ("SECRET_KEY: c2VjcmV0=").
    /// </summary>
    private static string NameProblem(string name)
    {
        const string Rule = "a name is letters, digits and _, not starting with a digit";
        if (name.Length == 0)
        {
            return $"no variable name before '=' ({Rule})";
        }

        if (char.IsAsciiDigit(name[0]))
        {
            return $"the variable name starts with a digit ({Rule})";
        }

        var bad = name.AsSpan().IndexOfAnyExcept(NameChars);
        var shown = name[bad] is > ' ' and < '\x7f' ? $"'{name[bad]}'" : $"U+{(int)name[bad]:X4}";
        return $"'{name[..bad]}' is followed by {shown} where '=' belongs ({Rule})";
    }

    private static readonly System.Buffers.SearchValues<char> NameChars =
        System.Buffers.SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_");

    private static bool IsName(string text) =>
        text.Length > 0 && !char.IsAsciiDigit(text[0]) && text.All(c => char.IsAsciiLetterOrDigit(c) || c == '_');

    private static string Unquoted(string rest)
    {
        for (var i = 0; i < rest.Length; i++)
        {
            if (rest[i] == '#' && (i == 0 || char.IsWhiteSpace(rest[i - 1])))
            {
                return rest[..i].TrimEnd();
            }
        }

        return rest.TrimEnd();
    }

    // Reads from just after the opening quote, across lines if need be; i moves to the closing quote's line.
    private static (string? Value, string? Error) Quoted(string[] lines, ref int i, string rest)
    {
        var quote = rest[0];
        var value = new StringBuilder();
        var text = rest[1..];
        while (true)
        {
            for (var j = 0; j < text.Length; j++)
            {
                var c = text[j];
                if (c == quote)
                {
                    var after = text[(j + 1)..].TrimStart();
                    return after.Length == 0 || after[0] == '#'
                        ? (value.ToString(), null)
                        : (null, $"unexpected text after the closing {quote}");
                }

                if (c == '\\' && quote == '"' && j + 1 < text.Length)
                {
                    var escaped = text[++j];
                    _ = escaped switch
                    {
                        'n' => value.Append('\n'),
                        'r' => value.Append('\r'),
                        't' => value.Append('\t'),
                        '"' or '\\' => value.Append(escaped),
                        _ => value.Append('\\').Append(escaped),
                    };
                    continue;
                }

                value.Append(c);
            }

            if (++i >= lines.Length)
            {
                // Everything after an unclosed quote belongs to it: no further lines to report on.
                i = lines.Length - 1;
                return (null, $"the {quote} quote is never closed");
            }

            value.Append('\n');
            text = lines[i];
        }
    }
}

internal readonly record struct DotEnvEntry(string Name, string Value, int Line);

internal readonly record struct DotEnvError(int Line, string Message)
{
    public override string ToString() => $"line {Line}: {Message}";
}

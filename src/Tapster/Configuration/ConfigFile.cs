using System.Text;
using System.Text.RegularExpressions;
using Tomlyn;
using Tomlyn.Parsing;
using Tomlyn.Syntax;

namespace Tapster.Configuration;

/// <summary>
/// <c>tapster.toml</c> read through Tomlyn's syntax tree (no reflection, so it works under Native AOT),
/// flattened to key paths with their locations. Every unknown key and table is an error, with the
/// nearest known one as a hint.
/// </summary>
internal sealed partial class ConfigFile
{
    private readonly Dictionary<string, FileValue> _values = new(StringComparer.Ordinal);
    private readonly List<KeyValuePair<string, FileValue>> _environment = [];
    private readonly List<KeyValuePair<string, FileValue>> _static = [];
    private readonly List<ConfigError> _errors;

    private ConfigFile(string name, string directory, List<ConfigError> errors)
    {
        Name = name;
        Directory = directory;
        _errors = errors;
    }

    /// <summary>The file as messages name it: the path as it was found or given.</summary>
    public string Name { get; }

    /// <summary>Where relative paths in the file start from.</summary>
    public string Directory { get; }

    /// <summary>Values by schema key path (<c>workers.count</c>).</summary>
    public IReadOnlyDictionary<string, FileValue> Values => _values;

    /// <summary>The <c>[env]</c> entries, in file order.</summary>
    public IReadOnlyList<KeyValuePair<string, FileValue>> Environment => _environment;

    /// <summary>The <c>[static]</c> entries (URL prefix, directory or options), in file order.</summary>
    public IReadOnlyList<KeyValuePair<string, FileValue>> Static => _static;

    /// <summary>The only quoted text kept in a TOML syntax error: the grammar's own tokens, never a value.</summary>
    private static readonly HashSet<string> GrammarTokens = new(StringComparer.Ordinal)
    {
        "=", "[", "]", "{", "}", ",", ".", "#", "0", "x", "o", "b", "\\", "\\x", "\\u", "\\U",
    };

    /// <summary>
    /// Tomlyn's syntax errors quote the source text they stumbled on: a duplicate key's first definition
    /// whole ("... with `DB_PASSWORD = "hunter2"`"), the token after a key ("instead of hunter2", for an
    /// [env] value written without quotes), and some run on to the end of the file. That text can be a
    /// secret, and errors go to the terminal and the service's log. So the message is kept only up to
    /// the first quoted text that is not a grammar token (<c>=</c>, <c>]</c>, <c>\x</c>), or up to
    /// "instead of" or "but was", and "…" stands for the rest; the line and column say where to look.
    /// A quote inside the source text cannot extend what is shown: nothing after the first unknown
    /// quote is read.
    /// </summary>
    internal static string WithoutSourceText(string message)
    {
        if (DuplicateKey().Match(message) is { Success: true } duplicate)
        {
            return duplicate.Value; // a name, not a value; the first definition it quotes after is cut
        }

        foreach (var marker in (ReadOnlySpan<string>)[" instead of ", " but was "])
        {
            var at = message.IndexOf(marker, StringComparison.Ordinal);
            if (at >= 0)
            {
                message = string.Concat(message.AsSpan(0, at + marker.Length), "…");
            }
        }

        var text = new StringBuilder(message.Length);
        for (var i = 0; i < message.Length; i++)
        {
            var close = message[i] switch { '`' => '`', '\'' => '\'', '"' => '"', '[' => ']', _ => '\0' };
            text.Append(message[i]);
            if (close == '\0')
            {
                continue;
            }

            var end = message.IndexOf(close, i + 1);
            if (end < 0 || !GrammarTokens.Contains(message[(i + 1)..end]))
            {
                return text.Append('…').ToString();
            }

            text.Append(message, i + 1, end - i);
            i = end;
        }

        return text.ToString();
    }

    [GeneratedRegex(@"^The key `[^`\r\n]*` is already defined at \([0-9]+,[0-9]+\)")]
    private static partial Regex DuplicateKey();

    /// <summary>Reads the file; malformed TOML is one error naming its line and column.</summary>
    public static ConfigFile Parse(string text, string name, string directory, List<ConfigError> errors)
    {
        var file = new ConfigFile(name, directory, errors);
        DocumentSyntax document;
        try
        {
            document = SyntaxParser.Parse(text, name, validate: true);
        }
        catch (TomlException e)
        {
            // Tomlyn gives up on nesting past its depth limit by throwing, not with a diagnostic.
            errors.Add(new ConfigError($"this is not valid TOML: {WithoutSourceText(e.Message.Split('\n')[0].Split(". ")[0])}", new SourceLocation(name, 1, 1)));
            return file;
        }

        if (document.HasErrors)
        {
            var first = document.Diagnostics.First(d => d.Kind == DiagnosticMessageKind.Error);
            errors.Add(new ConfigError($"this is not valid TOML: {WithoutSourceText(first.Message)}", SourceLocation.Of(name, first.Span)));
            return file;
        }

        file.Walk(document.KeyValues, "");
        foreach (var table in document.Tables)
        {
            var tableName = KeyPath(table.Name!);
            if (table is TableArraySyntax && SettingsSchema.Find(tableName) is not null)
            {
                file.AddArrayTable(tableName, table);
                continue;
            }

            if (table is TableArraySyntax || !Sections.Contains(tableName))
            {
                var suggestion = DidYouMean.Suggest(tableName, Sections.Select(s => (s, s)));
                var hint = suggestion is null ? $"known tables: {string.Join(", ", Sections.Select(s => $"[{s}]"))}" : $"did you mean [{suggestion}]?";
                var written = table is TableArraySyntax ? $"[[{tableName}]]" : $"[{tableName}]";
                file.Error(table.Name!.Span, $"unknown table {written} ({hint})");
                continue;
            }

            file.Walk(table.Items, tableName + ".");
        }

        return file;
    }

    /// <summary>
    /// One <c>[[limits.rate]]</c> table: the same as one inline table in <c>rate = [{ ... }]</c>, which is
    /// what the setting's parser reads, so its entries move into one (located at the first header).
    /// </summary>
    private void AddArrayTable(string key, TableSyntaxBase table)
    {
        if (!_values.TryGetValue(key, out var value) || value.Value is not ArraySyntax array)
        {
            array = new ArraySyntax();
            _values[key] = new FileValue(array, SourceLocation.Of(Name, table.Name!.Span));
        }

        var inline = new InlineTableSyntax();
        while (table.Items.ChildrenCount > 0)
        {
            var entry = table.Items.GetChild(0)!;
            table.Items.RemoveChildAt(0);
            inline.Items.Add(new InlineTableItemSyntax(entry));
        }

        array.Items.Add(new ArrayItemSyntax { Value = inline });
    }

    /// <summary>The tables the schema has keys under, <c>[env]</c> and <c>[static]</c>.</summary>
    private static IReadOnlyList<string> Sections { get; } =
        [.. SettingsSchema.All.Where(s => s.Key.Contains('.', StringComparison.Ordinal)).Select(s => s.Key[..s.Key.IndexOf('.', StringComparison.Ordinal)]).Append(SettingsSchema.EnvTable).Append(SettingsSchema.StaticTable).Distinct()];

    /// <summary>What a mistyped key is compared with: every key path, and every flag's name (bind, max_body_size).</summary>
    private static IReadOnlyList<(string Spelling, string Key)> KeySpellings { get; } =
    [
        .. SettingsSchema.All.Select(s => (s.Key, s.Key)),
        .. SettingsSchema.All.Where(s => s.Flag is not null && !s.IsPositional).Select(s => (s.Flag!.TrimStart('-').Replace('-', '_'), s.Key)),
    ];

    private void Walk(IEnumerable<KeyValueSyntax> items, string prefix)
    {
        foreach (var item in items)
        {
            var path = prefix + KeyPath(item.Key!);
            if (prefix == SettingsSchema.StaticTable + ".")
            {
                // Keys are URL prefixes ("/v1.2" stays one key); StaticConfig checks them with their values.
                _static.Add(new(KeyPath(item.Key!), new FileValue(item.Value!, SourceLocation.Of(Name, item.Value!.Span))));
            }
            else if (path == SettingsSchema.StaticTable && item.Value is InlineTableSyntax staticTable)
            {
                Walk(staticTable.Items.Select(i => i.KeyValue!), path + ".");
            }
            else if (SettingsSchema.Find(path) is not null)
            {
                _values[path] = new FileValue(item.Value!, SourceLocation.Of(Name, item.Value!.Span));
            }
            else if (item.Value is InlineTableSyntax inline)
            {
                Walk(inline.Items.Select(i => i.KeyValue!), path + ".");
            }
            else if (path.StartsWith(SettingsSchema.EnvTable + ".", StringComparison.Ordinal) && path.Count(c => c == '.') == 1)
            {
                _environment.Add(new(path[(SettingsSchema.EnvTable.Length + 1)..], new FileValue(item.Value!, SourceLocation.Of(Name, item.Value!.Span))));
            }
            else
            {
                var last = path[(path.LastIndexOf('.') + 1)..];
                var suggestion = DidYouMean.Suggest(path, KeySpellings) ?? DidYouMean.Suggest(last, KeySpellings);
                var hint = suggestion is null ? "`tapster config docs` lists every key" : $"did you mean '{suggestion}'?";
                Error(item.Key!.Span, $"unknown key '{path}' ({hint})");
            }
        }
    }

    private void Error(SourceSpan span, string message) => _errors.Add(new ConfigError(message, SourceLocation.Of(Name, span)));

    /// <summary>A key as written, dotted parts joined with '.' and quotes removed.</summary>
    public static string KeyPath(KeySyntax key) =>
        string.Join('.', key.DotKeys.Select(d => d.Key!).Prepend(key.Key!).Select(KeyText));

    private static string KeyText(BareKeyOrStringValueSyntax key) => key switch
    {
        BareKeySyntax bare => bare.Key!.Text!,
        StringValueSyntax quoted => quoted.Value!,
        _ => key.ToString() ?? "",
    };
}

using Tapster.Configuration;
using Tomlyn.Syntax;

namespace Tapster.Edge.Static;

/// <summary>
/// The <c>[static]</c> mounts as configuration: the <c>--static PREFIX=DIR</c> flag (and TAPSTER_STATIC),
/// and the table, whose keys are URL prefixes: <c>"/static" = "app/static"</c>, or with options
/// <c>"/media" = { dir = "media", cache_control = "no-cache", dotfiles = true }</c>.
/// </summary>
internal static class StaticConfig
{
    /// <summary>nginx's and Caddy's default is none; an hour keeps a deploy visible within the hour.</summary>
    public const string DefaultCacheControl = "public, max-age=3600";

    private const string DirKey = "dir";
    private const string CacheControlKey = "cache_control";
    private const string DotfilesKey = "dotfiles";

    /// <summary>The flag's form; directories on the flag are relative to the current directory.</summary>
    public static ValueParser<IReadOnlyList<StaticMount>> Parser { get; } = new()
    {
        TypeName = "table of URL prefix = directory",
        HelpName = "PREFIX=DIR",
        Shape = CliShape.List,
        FromText = ParseFlag,
        FromToml = (value, _) => Parsed<IReadOnlyList<StaticMount>>.Fail(
            $"must be a table of URL prefixes and directories, got {ValueParsers.Describe(value)} (write [static] then \"/static\" = \"app/static\")"),
        Format = mounts => "{ " + string.Join(", ", mounts.Select(m => $"{ValueParsers.Quote(m.Prefix)} = {ValueParsers.Quote(m.Directory)}")) + " }",
    };

    /// <summary>A Cache-Control value goes into every response as is: it must be one clean header line.</summary>
    public static string? CheckCacheControl(string value) =>
        value.Length == 0 || value.Any(char.IsControl) ? $"'{value}' must be a non-empty header value on one line (e.g. \"public, max-age=3600\")" : null;

    /// <summary>The mounts written in the file, in order; every mistake is added to <paramref name="errors"/>.</summary>
    public static List<StaticMount> FromFile(ConfigFile file, List<ConfigError> errors)
    {
        var mounts = new List<StaticMount>();
        foreach (var (prefix, entry) in file.Static)
        {
            var problem = ReadEntry(prefix, entry.Value, file.Directory, out var mount) ?? CheckDuplicate(mounts, prefix);
            if (problem is null)
            {
                mounts.Add(mount!);
            }
            else
            {
                errors.Add(new ConfigError($"{SettingsSchema.StaticTable}.\"{prefix}\" {problem}", entry.Location));
            }
        }

        return mounts;
    }

    private static Parsed<IReadOnlyList<StaticMount>> ParseFlag(string text)
    {
        var mounts = new List<StaticMount>();
        foreach (var item in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var equals = item.IndexOf('=', StringComparison.Ordinal);
            if (equals < 0)
            {
                return Parsed<IReadOnlyList<StaticMount>>.Fail($"'{item}' must be PREFIX=DIR (e.g. /static=app/static)");
            }

            var prefix = item[..equals];
            var directory = item[(equals + 1)..];
            string? full = null;
            var problem = CheckPrefix(prefix) ?? CheckDirectory(directory, Environment.CurrentDirectory, "the current directory", out full)
                ?? CheckDuplicate(mounts, prefix);
            if (problem is not null)
            {
                return Parsed<IReadOnlyList<StaticMount>>.Fail($"'{item}': {problem}");
            }

            mounts.Add(new StaticMount(prefix, full!));
        }

        return Parsed<IReadOnlyList<StaticMount>>.Ok(mounts);
    }

    private static string? ReadEntry(string prefix, ValueSyntax value, string fileDirectory, out StaticMount? mount)
    {
        mount = null;
        if (CheckPrefix(prefix) is { } badPrefix)
        {
            return badPrefix;
        }

        string? directory = null;
        string? cacheControl = null;
        bool? dotfiles = null;
        switch (value)
        {
            case StringValueSyntax text:
                directory = text.Value;
                break;
            case InlineTableSyntax table:
                foreach (var item in table.Items.Select(i => i.KeyValue!))
                {
                    var key = ConfigFile.KeyPath(item.Key!);
                    switch (key, item.Value)
                    {
                        case (DirKey, StringValueSyntax dir):
                            directory = dir.Value;
                            break;
                        case (CacheControlKey, StringValueSyntax cache):
                            cacheControl = cache.Value!;
                            if (CheckCacheControl(cacheControl) is { } badCache)
                            {
                                return $"{CacheControlKey} {badCache}";
                            }

                            break;
                        case (DotfilesKey, BooleanValueSyntax flag):
                            dotfiles = flag.Value;
                            break;
                        case (DirKey or CacheControlKey or DotfilesKey, _):
                            return $"{key} must be {(key == DotfilesKey ? "true or false" : "a string")}, got {ValueParsers.Describe(item.Value!)}";
                        default:
                            return $"has an unknown option '{key}' (known: {DirKey}, {CacheControlKey}, {DotfilesKey})";
                    }
                }

                break;
            default:
                return $"must be a directory (\"app/static\") or a table ({{ {DirKey} = \"app/static\", {CacheControlKey} = \"no-cache\" }}), got {ValueParsers.Describe(value)}";
        }

        if (directory is null)
        {
            return $"needs {DirKey} = \"...\", the directory to serve";
        }

        if (CheckDirectory(directory, fileDirectory, "the config file", out var full) is { } badDirectory)
        {
            return badDirectory;
        }

        mount = new StaticMount(prefix, full!, cacheControl, dotfiles);
        return null;
    }

    /// <summary>A prefix is a plain absolute URL path: no trailing slash, nothing a path check would refuse.</summary>
    private static string? CheckPrefix(string prefix) =>
        prefix.Length < 2 || !prefix.StartsWith('/') || prefix.EndsWith('/')
            || prefix.Contains("//", StringComparison.Ordinal) || prefix.Split('/').Any(s => s is "." or "..")
            || prefix.AsSpan().ContainsAny("\\?#%\0")
            ? $"prefix '{prefix}' must start with '/', not end with one, and be a plain path (e.g. /static)"
            : null;

    private static string? CheckDirectory(string directory, string baseDirectory, string relativeTo, out string? full)
    {
        full = directory.Length == 0 ? null : Path.GetFullPath(directory, baseDirectory);
        return full is not null && Directory.Exists(full)
            ? null
            : $"directory '{directory}' does not exist (looked for {full}; paths are relative to {relativeTo})";
    }

    private static string? CheckDuplicate(List<StaticMount> mounts, string prefix) =>
        mounts.Any(m => m.Prefix == prefix) ? $"prefix '{prefix}' is mounted twice" : null;
}

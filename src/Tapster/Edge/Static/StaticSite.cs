using Tapster.Configuration;

namespace Tapster.Edge.Static;

/// <summary>
/// A <see cref="StaticMount"/> made ready to serve: its directory resolved to a real path once, at
/// start-up, and the rules that keep every request inside it.
/// </summary>
internal sealed class StaticSite
{
    private readonly string _rootWithSlash;

    private StaticSite(string prefix, string root, string cacheControl, bool dotfiles)
    {
        Prefix = prefix;
        Root = root;
        _rootWithSlash = root.EndsWith('/') ? root : root + "/";
        CacheControl = cacheControl;
        Dotfiles = dotfiles;
    }

    public string Prefix { get; }

    /// <summary>The directory, every symlink resolved: what each served file's real path must stay under.</summary>
    public string Root { get; }

    public string CacheControl { get; }

    public bool Dotfiles { get; }

    /// <summary>
    /// Every mount of <paramref name="settings"/>, or the error that stops start-up: the loader checked
    /// the directories, so this fails only when one vanished since.
    /// </summary>
    public static StaticSite[] OpenAll(ServeSettings settings, out string? error)
    {
        var sites = new List<StaticSite>();
        foreach (var mount in settings.StaticMounts)
        {
            if (RealPath.Resolve(mount.Directory) is not { } root || !System.IO.Directory.Exists(root))
            {
                error = $"static {mount.Prefix}: '{mount.Directory}' is not a directory";
                return [];
            }

            if (root == "/")
            {
                // Every file this process can read (/etc/shadow as root), one URL away.
                error = $"static {mount.Prefix}: '{mount.Directory}' is the root of the file system; serve a directory of public files instead";
                return [];
            }

            sites.Add(new StaticSite(mount.Prefix, root, mount.CacheControl ?? settings.StaticCacheControl, mount.Dotfiles ?? settings.StaticDotfiles));
        }

        error = null;
        return [.. sites];
    }

    /// <summary>The prefix itself, or the prefix and a slash: <c>/static</c> does not cover <c>/staticfoo</c>.</summary>
    public bool Covers(string path) =>
        path.StartsWith(Prefix, StringComparison.Ordinal) && (path.Length == Prefix.Length || path[Prefix.Length] == '/');

    /// <summary>
    /// What the path after the prefix (<c>/css/app.css</c>, decoded by Kestrel) leads to. The segments
    /// are checked as sent, then the real path is: a symlink must neither leave the root nor reach a
    /// dotfile the URL did not name.
    /// </summary>
    public Lookup Resolve(ReadOnlySpan<char> relative, out FileInfo? file)
    {
        var check = CheckSegments(relative);
        if (check != Lookup.File)
        {
            file = null;
            return check;
        }

        return Locate(string.Concat(Root, relative), out file);
    }

    /// <summary>A precompressed sibling (<c>app.js.br</c>) of a served file, held to the same rules.</summary>
    public FileInfo? Sibling(FileInfo file, string suffix) =>
        Locate(file.FullName + suffix, out var sibling) == Lookup.File ? sibling : null;

    private Lookup Locate(string candidate, out FileInfo? file)
    {
        file = null;
        if (RealPath.Resolve(candidate) is not { } real)
        {
            return Lookup.Missing;
        }

        if (real != Root && !real.StartsWith(_rootWithSlash, StringComparison.Ordinal))
        {
            return Lookup.Outside;
        }

        var check = CheckSegments(real.AsSpan(Root.Length));
        if (check != Lookup.File)
        {
            return check;
        }

        switch (FileKind.Of(real))
        {
            case FileKind.Kind.Regular:
                file = new FileInfo(real);
                return Lookup.File;
            case FileKind.Kind.Directory:
                return Lookup.Directory;
            case FileKind.Kind.Special:
                return Lookup.Special;
            default:
                return Lookup.Missing;
        }
    }

    private Lookup CheckSegments(ReadOnlySpan<char> path)
    {
        foreach (var range in path.Split('/'))
        {
            var segment = path[range];
            if (segment.IsEmpty)
            {
                continue;
            }

            if (segment.ContainsAny('\0', '\\'))
            {
                return Lookup.Malformed;
            }

            if (segment is "." or "..")
            {
                return Lookup.DotSegment;
            }

            if (segment[0] == '.' && !Dotfiles)
            {
                return Lookup.Hidden;
            }
        }

        return Lookup.File;
    }
}

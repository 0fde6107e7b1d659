namespace Tapster.Edge.Static;

/// <summary>What a request path under a static prefix leads to; every kind but the first two is a refusal.</summary>
internal enum Lookup
{
    File,
    Directory,

    /// <summary>A NUL or a backslash: no real file name needs them, attacks do. 400.</summary>
    Malformed,

    /// <summary>A <c>.</c> or <c>..</c> segment (Kestrel removes them first; this is the second lock). 404.</summary>
    DotSegment,

    /// <summary>A dotfile (.env, .git) while dotfiles are off. 404.</summary>
    Hidden,

    /// <summary>Resolves (through a symlink) to a place outside the static directory. 404.</summary>
    Outside,

    /// <summary>A FIFO, a socket or a device: only regular files are served (nginx refuses them too). 404.</summary>
    Special,

    Missing,
}

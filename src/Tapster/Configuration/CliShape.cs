namespace Tapster.Configuration;

/// <summary>How a setting is written on the command line.</summary>
internal enum CliShape
{
    /// <summary><c>--workers 4</c>.</summary>
    Value,

    /// <summary><c>--bind a --bind b</c>; its environment twin is comma-separated.</summary>
    List,

    /// <summary><c>--no-preload</c>, no value; its environment twin is 1/true/yes/on or 0/false/no/off.</summary>
    Switch,
}

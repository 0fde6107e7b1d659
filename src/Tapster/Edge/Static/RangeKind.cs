namespace Tapster.Edge.Static;

/// <summary>What a Range header asks of a file of known length.</summary>
internal enum RangeKind
{
    /// <summary>No Range, one Tapster ignores (malformed, not bytes), or several: the whole file, 200.</summary>
    Whole,

    /// <summary>One satisfiable range: 206 with Content-Range.</summary>
    Partial,

    /// <summary>A range starting past the end: 416 with <c>Content-Range: bytes */length</c>.</summary>
    Unsatisfiable,
}

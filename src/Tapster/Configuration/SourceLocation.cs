using System.Globalization;
using Tomlyn.Syntax;

namespace Tapster.Configuration;

/// <summary>A place in a file, 1-based as editors count.</summary>
internal sealed record SourceLocation(string File, int Line, int Column)
{
    /// <summary>Tomlyn counts lines and columns from zero.</summary>
    public static SourceLocation Of(string file, SourceSpan span) => new(file, span.Start.Line + 1, span.Start.Column + 1);

    /// <summary>The file and line, as <c>config show</c> names a value's source.</summary>
    public string FileAndLine => $"{File}:{Line.ToString(CultureInfo.InvariantCulture)}";

    public override string ToString() => $"{FileAndLine}:{Column.ToString(CultureInfo.InvariantCulture)}";
}

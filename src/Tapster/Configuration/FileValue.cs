using Tomlyn.Syntax;

namespace Tapster.Configuration;

/// <summary>A value as written in the file, with where it was written.</summary>
internal sealed record FileValue(ValueSyntax Value, SourceLocation Location);

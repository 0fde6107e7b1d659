namespace Tapster.Configuration;

/// <summary>Where a variable of the app's environment was set, and where its relative paths start.</summary>
internal sealed record AppEnvironmentOrigin(string Source, SourceLocation? Location, string Directory, bool Secret);

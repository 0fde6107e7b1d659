namespace Tapster.Edge.Static;

/// <summary>
/// One <c>[static]</c> entry: URL <paramref name="Prefix"/> (<c>/static</c>) served from
/// <paramref name="Directory"/> (absolute). Null options take the global <c>static_*</c> settings.
/// </summary>
internal sealed record StaticMount(string Prefix, string Directory, string? CacheControl = null, bool? Dotfiles = null);

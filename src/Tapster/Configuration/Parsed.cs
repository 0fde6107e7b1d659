namespace Tapster.Configuration;

/// <summary>A value read from a flag, an environment variable or the file, or why it could not be.</summary>
internal readonly record struct Parsed<T>(T Value, string? Error)
{
    public static Parsed<T> Ok(T value) => new(value, null);

    public static Parsed<T> Fail(string error) => new(default!, error);
}

using Tomlyn.Syntax;

namespace Tapster.Configuration;

/// <summary>A setting of type <typeparamref name="T"/>, bound to one <see cref="ServeSettings"/> property.</summary>
internal sealed class TypedSetting<T> : Setting
{
    public required ValueParser<T> Parser { get; init; }

    /// <summary>How flags and the environment read it, when not as the file does (<c>--no-preload</c>).</summary>
    public ValueParser<T>? TextParser { get; init; }

    /// <summary>Range and shape rules beyond the type: returns the problem, or null.</summary>
    public Func<T, string?> Check { get; init; } = _ => null;

    public required Func<ServeSettings, T> Get { get; init; }

    public required Func<ServeSettings, T, ServeSettings> Set { get; init; }

    public override string TypeName => Parser.TypeName;

    public override string HelpName => Placeholder ?? Parser.HelpName;

    public override CliShape Shape => (TextParser ?? Parser).Shape;

    public override string? ApplyText(ref ServeSettings settings, string text) => Apply(ref settings, (TextParser ?? Parser).FromText(text));

    public override string? ApplyToml(ref ServeSettings settings, ValueSyntax value, string fileDirectory) => Apply(ref settings, Parser.FromToml(value, fileDirectory));

    public override string Show(ServeSettings settings) => Parser.Format(Get(settings));

    private string? Apply(ref ServeSettings settings, Parsed<T> parsed)
    {
        var problem = parsed.Error ?? Check(parsed.Value);
        if (problem is null)
        {
            settings = Set(settings, parsed.Value);
        }

        return problem;
    }
}

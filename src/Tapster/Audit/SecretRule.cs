using System.Text.RegularExpressions;

namespace Tapster.Audit;

/// <summary>One kind of secret the scanner recognises in a line of a tracked file.</summary>
/// <param name="Accept">A second look at a match the pattern alone cannot judge (entropy, placeholders).</param>
/// <param name="Certain">A known credential format; otherwise only a long random-looking string.</param>
internal sealed record SecretRule(string Kind, Regex Pattern, Func<Match, bool> Accept, bool Certain);

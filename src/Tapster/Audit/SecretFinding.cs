namespace Tapster.Audit;

/// <summary>
/// Where a secret was seen: the file (relative to the repository), the line and what it looks like.
/// Never the value: a report is pasted into tickets and CI logs.
/// </summary>
/// <param name="Certain">A known credential format; otherwise only a long random-looking string.</param>
internal sealed record SecretFinding(string File, int Line, string Kind, bool Certain)
{
    public override string ToString() => $"{File}:{Line} ({Kind})";
}

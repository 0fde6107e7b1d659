namespace Tapster.Audit;

/// <summary>
/// One line of the report. <paramref name="Id"/> is stable (scripts match on it); <paramref name="Fix"/>
/// is one line saying what to change, empty when there is nothing to do.
/// </summary>
internal sealed record CheckResult(string Id, CheckStatus Status, string Title, string Detail, string Fix)
{
    public static CheckResult Pass(string id, string title, string detail) => new(id, CheckStatus.Pass, title, detail, "");

    public static CheckResult Skip(string id, string title, string detail) => new(id, CheckStatus.Skip, title, detail, "");
}

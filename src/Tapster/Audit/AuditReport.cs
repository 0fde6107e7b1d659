using System.Text;
using System.Text.Json;
using Tapster.Telemetry;

namespace Tapster.Audit;

/// <summary>The results as aligned lines for a person (coloured on a terminal), or as a JSON array for a program.</summary>
internal static class AuditReport
{
    public static string Json(IReadOnlyList<CheckResult> results)
    {
        var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            writer.WriteStartArray();
            foreach (var result in results)
            {
                writer.WriteStartObject();
                writer.WriteString("id", result.Id);
                writer.WriteString("status", Label(result.Status));
                writer.WriteString("title", result.Title);
                writer.WriteString("detail", result.Detail);
                writer.WriteString("fix", result.Fix);
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
        }

        return Encoding.UTF8.GetString(buffer.ToArray()) + "\n";
    }

    public static string Text(IReadOnlyList<CheckResult> results, bool colour)
    {
        var width = results.Max(r => r.Title.Length);
        var text = new StringBuilder();
        foreach (var result in results)
        {
            var label = Label(result.Status);
            text.Append(colour ? $"\e[{Colour(result.Status)}m{label}\e[0m" : label)
                .Append("  ").Append(result.Title.PadRight(width)).Append("  ")
                .Append(TerminalText.Sanitize(result.Detail)).Append('\n');
            if (result.Fix.Length > 0)
            {
                text.Append(' ', label.Length + 2).Append("fix: ").Append(TerminalText.Sanitize(result.Fix)).Append('\n');
            }
        }

        var counts = Enum.GetValues<CheckStatus>().Select(s => (Status: s, Count: results.Count(r => r.Status == s))).Where(c => c.Count > 0);
        text.Append('\n').Append(results.Count).Append(" checks: ")
            .AppendJoin(", ", counts.Select(c => $"{c.Count} {Label(c.Status).ToLowerInvariant()}")).Append('\n');
        return text.ToString();
    }

    private static string Label(CheckStatus status) => status switch
    {
        CheckStatus.Pass => "PASS",
        CheckStatus.Warn => "WARN",
        CheckStatus.Fail => "FAIL",
        _ => "SKIP",
    };

    /// <summary>SGR codes: green, yellow, red; a skip is dim.</summary>
    private static string Colour(CheckStatus status) => status switch
    {
        CheckStatus.Pass => "32",
        CheckStatus.Warn => "33",
        CheckStatus.Fail => "31",
        _ => "2",
    };
}

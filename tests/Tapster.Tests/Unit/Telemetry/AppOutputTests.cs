using System.Text;
using System.Text.Json;
using Tapster.Secrets;
using Tapster.Telemetry;

namespace Tapster.Tests.Unit.Telemetry;

public sealed class AppOutputTests
{
    [Theory]
    [InlineData("[2026-11-24 10:00:00,000] ERROR in shop: Exception on /cart [POST]\nTraceback (most recent call last):", "error")]
    [InlineData("CRITICAL:root:disk full", "error")]
    [InlineData("WARNING:shop:slow query", "warn")]
    [InlineData("INFO in shop: started", "info")]
    [InlineData("2026-11-24 DEBUG sql: SELECT 1", "debug")]
    [InlineData("Traceback (most recent call last):\n  File \"x.py\", line 1\nValueError: INFO", "error")]
    [InlineData("a message saying nothing of its level", "warn")]
    [InlineData("ERRORS are not ERROR_CODES", "warn")]
    [InlineData("plain first line\nERROR only on the second line", "warn")]
    public void A_records_level_comes_from_the_level_name_in_its_first_line_else_a_traceback_else_warn(string text, string level)
    {
        Assert.Equal(level, AppOutput.RecordLevel(text, "warn"));
    }

    [Fact]
    public void A_stdout_record_without_a_level_name_is_info()
    {
        Assert.Equal(("info", "error"), (AppOutput.RecordLevel("debugging 42", "info"), AppOutput.RecordLevel("ERROR:root:x", "info")));
    }

    [Fact]
    public async Task A_record_is_one_json_event_with_the_request_id_and_its_secrets_masked()
    {
        using var output = new MemoryStream();
        var sink = new LogSink(output, isTerminal: false);
        var appOutput = new AppOutput(sink, new SecretRedactor(new Dictionary<string, string> { ["DB_PASSWORD"] = "hunter2-very-secret" }));

        appOutput.WriteRecord(3, 4242, "req-7", "wsgi.errors", "ERROR in shop: cannot connect\nTraceback (most recent call last):\n  password=hunter2-very-secret\nOSError: refused");
        await sink.DisposeAsync();

        var line = Assert.Single(Encoding.UTF8.GetString(output.ToArray()).Split('\n', StringSplitOptions.RemoveEmptyEntries));
        var e = JsonDocument.Parse(line).RootElement;
        Assert.Equal(("app.log", "error", "req-7", 3, 4242, "wsgi.errors"),
            (e.GetProperty("event").GetString(), e.GetProperty("level").GetString(), e.GetProperty("request_id").GetString(),
                e.GetProperty("worker").GetInt32(), e.GetProperty("pid").GetInt32(), e.GetProperty("stream").GetString()));
        var text = e.GetProperty("text").GetString()!;
        Assert.StartsWith("ERROR in shop: cannot connect\nTraceback", text, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2-very-secret", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task On_a_terminal_each_line_of_a_record_is_its_own_line_indented_and_escaped()
    {
        using var output = new MemoryStream();
        var sink = new LogSink(output, isTerminal: true);

        new AppOutput(sink, new SecretRedactor(new Dictionary<string, string>())).WriteRecord(1, 99, "req-1", "stderr", "first\nsecond \u001b[31mred\nthird");
        await sink.DisposeAsync();

        var lines = Encoding.UTF8.GetString(output.ToArray()).TrimEnd('\n').Split('\n');
        Assert.Equal(3, lines.Length);
        Assert.EndsWith("[worker 99 stderr warn req-1] first", lines[0], StringComparison.Ordinal);
        Assert.Equal("    second \\x1b[31mred", lines[1]);
        Assert.Equal("    third", lines[2]);
    }
}

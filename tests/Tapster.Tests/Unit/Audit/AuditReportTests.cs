using System.Text.Json;
using Tapster.Audit;

namespace Tapster.Tests.Unit.Audit;

public class AuditReportTests
{
    static readonly CheckResult[] Results =
    [
        CheckResult.Pass("debug", "Debug mode", "debug is off"),
        new("secret-key", CheckStatus.Fail, "SECRET_KEY", "SECRET_KEY is a well-known placeholder", "set SECRET_KEY"),
        CheckResult.Skip("migrations", "Database migrations", "no migrations"),
    ];

    [Fact]
    public void Json_IsAnArrayOfIdStatusTitleDetailFix()
    {
        var array = JsonDocument.Parse(AuditReport.Json(Results)).RootElement;
        Assert.Equal(3, array.GetArrayLength());
        var second = array[1];
        Assert.Equal("secret-key", second.GetProperty("id").GetString());
        Assert.Equal("FAIL", second.GetProperty("status").GetString());
        Assert.Equal("SECRET_KEY", second.GetProperty("title").GetString());
        Assert.Equal("set SECRET_KEY", second.GetProperty("fix").GetString());
    }

    [Fact]
    public void Text_AlignsTitlesPutsTheFixBelowAndCounts()
    {
        var lines = AuditReport.Text(Results, colour: false).Split('\n');
        Assert.Equal("PASS  Debug mode           debug is off", lines[0]);
        Assert.Equal("FAIL  SECRET_KEY           SECRET_KEY is a well-known placeholder", lines[1]);
        Assert.Equal("      fix: set SECRET_KEY", lines[2]);
        Assert.Equal("SKIP  Database migrations  no migrations", lines[3]);
        Assert.Equal("3 checks: 1 pass, 1 fail, 1 skip", lines[5]);
    }

    [Fact]
    public void Text_ColoursOnlyTheStatusAndEscapesControlCharacters()
    {
        var text = AuditReport.Text([new CheckResult("x", CheckStatus.Warn, "T", "bad\e[2Jname", "")], colour: true);
        Assert.StartsWith("\e[33mWARN\e[0m  T  bad\\x1b[2Jname", text, StringComparison.Ordinal);
    }
}

using Tapster.Secrets;

namespace Tapster.Tests.Unit.Secrets;

public sealed class DotEnvTests
{
    private static Dictionary<string, string> Values(string text)
    {
        var (values, errors) = DotEnv.Parse(text);
        Assert.Empty(errors);
        return values.ToDictionary(v => v.Key, v => v.Value);
    }

    [Fact]
    public void Parse_PlainAssignments_TrimsUnquotedValues() =>
        Assert.Equal(new Dictionary<string, string> { ["A"] = "1", ["B"] = "two words", ["C"] = "" }, Values("A=1\nB =  two words  \nC=\n"));

    [Fact]
    public void Parse_CommentsBlankLinesAndExport_AreHandled() =>
        Assert.Equal(
            new Dictionary<string, string> { ["DATABASE_URL"] = "postgres://db", ["TOKEN"] = "abc", ["HASH"] = "a#b" },
            Values("# production\n\n   # indented comment\nexport DATABASE_URL=postgres://db\nTOKEN=abc # trailing comment\nHASH=a#b\n"));

    [Fact]
    public void Parse_SingleQuotedValue_KeepsDollarsBackslashesAndHashes() =>
        Assert.Equal(@"$HOME \n # kept", Values(@"A='$HOME \n # kept' # comment")["A"]);

    [Fact]
    public void Parse_DoubleQuotes_UnderstandEscapes() =>
        Assert.Equal("line1\nline2\t\"quoted\" back\\slash \\d", Values(@"A=""line1\nline2\t\""quoted\"" back\\slash \d""")["A"]);

    [Fact]
    public void Parse_QuotedValues_MaySpanLines() =>
        Assert.Equal(
            "-----BEGIN KEY-----\nabc\n-----END KEY-----",
            Values("export TLS_KEY=\"-----BEGIN KEY-----\nabc\n-----END KEY-----\"\nNEXT=1\n")["TLS_KEY"]);

    [Fact]
    public void Parse_CrLfAndByteOrderMark_AreTolerated() =>
        Assert.Equal(new Dictionary<string, string> { ["A"] = "1", ["B"] = "2" }, Values("\uFEFFA=1\r\nB=\"2\"\r\n"));

    [Fact]
    public void Parse_RepeatedName_KeepsTheLastValue() => Assert.Equal("2", Values("A=1\nA=2")["A"]);

    [Fact]
    public void Parse_Mistakes_AreAllReportedWithLineNumbers()
    {
        var (_, errors) = DotEnv.Parse("GOOD=1\nnot an assignment\n1BAD=x\nQ=\"open\" trailing\nTAPSTER_WORKERS=4\nU='never closed\nMORE=1\n");

        Assert.Equal(5, errors.Count);
        Assert.StartsWith("line 2: expected NAME=VALUE", errors[0], StringComparison.Ordinal);
        Assert.StartsWith("line 3: invalid secret name '1BAD'", errors[1], StringComparison.Ordinal);
        Assert.StartsWith("line 4: unexpected text after the closing \"", errors[2], StringComparison.Ordinal);
        Assert.StartsWith("line 5: secret name 'TAPSTER_WORKERS' is reserved", errors[3], StringComparison.Ordinal);
        Assert.StartsWith("line 6: the ' quote is never closed", errors[4], StringComparison.Ordinal);
    }
}

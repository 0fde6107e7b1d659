using Tapster.Configuration;

namespace Tapster.Tests.Unit.Configuration;

public sealed class DotEnvTests
{
    private static Dictionary<string, string> Values(string text)
    {
        var (values, errors) = DotEnv.Parse(text);
        Assert.Empty(errors);
        return values.ToDictionary(v => v.Name, v => v.Value);
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
    public void Parse_ASecretWrittenWithAColon_IsNamedWithoutQuotingTheValue()
    {
        var (_, errors) = DotEnv.Parse("SECRET_KEY: c2VjcmV0LXZhbHVl=\n");

        var error = Assert.Single(errors).ToString();
        Assert.Contains("'SECRET_KEY' is followed by ':' where '=' belongs", error, StringComparison.Ordinal);
        Assert.DoesNotContain("c2VjcmV0", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_Mistakes_AreAllReportedWithLineNumbers()
    {
        var (values, errors) = DotEnv.Parse("GOOD=1\nnot an assignment\n1BAD=x\nQ=\"open\" trailing\nU='never closed\nMORE=1\n");

        string[] expected = ["line 2: expected NAME=VALUE", "line 3: the variable name starts with a digit", "line 4: Q: unexpected text after the closing \"", "line 5: U: the ' quote is never closed"];
        Assert.Equal(expected.Length, errors.Count);
        foreach (var (want, got) in expected.Zip(errors))
        {
            Assert.StartsWith(want, got.ToString(), StringComparison.Ordinal);
        }

        Assert.Equal([new DotEnvEntry("GOOD", "1", 1)], values);
    }

    [Fact]
    public void Parse_Values_CarryTheLineOfTheirLastAssignment() =>
        Assert.Equal([new DotEnvEntry("B", "x", 2), new DotEnvEntry("A", "2", 3)], DotEnv.Parse("A=1\nB=x\nA=2\n").Values);
}

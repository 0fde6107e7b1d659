using Tapster.Audit;
using Tapster.Secrets;

namespace Tapster.Tests.Unit.Audit;

public sealed class StateFileChecksTests : IDisposable
{
    const UnixFileMode Private = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    const UnixFileMode PrivateDirectory = Private | UnixFileMode.UserExecute;

    readonly string dir = Directory.CreateTempSubdirectory("tapster-state-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    CheckResult Evaluate() => StateFileChecks.Evaluate(dir, SecretsLocation.Resolve(dir, environment: _ => null));

    string State(UnixFileMode directoryMode, UnixFileMode keyMode, UnixFileMode secretsMode)
    {
        var state = Directory.CreateDirectory(Path.Combine(dir, ".tapster")).FullName;
        File.WriteAllText(Path.Combine(state, "master.key"), "");
        File.WriteAllText(Path.Combine(state, "secrets.enc"), "");
        File.SetUnixFileMode(Path.Combine(state, "master.key"), keyMode);
        File.SetUnixFileMode(Path.Combine(state, "secrets.enc"), secretsMode);
        File.SetUnixFileMode(state, directoryMode);
        return state;
    }

    [Fact]
    public void Evaluate_NoStateFiles_Skips() => Assert.Equal(CheckStatus.Skip, Evaluate().Status);

    [Fact]
    public void Evaluate_OwnerOnly_Passes()
    {
        State(PrivateDirectory, Private, Private);
        Assert.Equal(CheckStatus.Pass, Evaluate().Status);
    }

    [Fact]
    public void Evaluate_ReadableByOthers_FailsNamingEachPathModeAndChmod()
    {
        State(PrivateDirectory | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute,
            Private | UnixFileMode.GroupRead, Private);
        var result = Evaluate();
        Assert.Equal(CheckStatus.Fail, result.Status);
        Assert.Equal(".tapster (mode 0755), .tapster/master.key (mode 0640) can be read or written by group or others", result.Detail);
        Assert.Equal("chmod 700 .tapster && chmod 600 .tapster/master.key", result.Fix);
    }
}

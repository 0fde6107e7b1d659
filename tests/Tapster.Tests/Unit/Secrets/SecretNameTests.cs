using Tapster.Secrets;

namespace Tapster.Tests.Unit.Secrets;

public sealed class SecretNameTests
{
    [Theory]
    [InlineData("A")]
    [InlineData("_private")]
    [InlineData("DATABASE_URL")]
    [InlineData("api_key_2")]
    public void Check_EnvironmentVariableNames_AreAccepted(string name) => Assert.Null(SecretName.Check(name));

    [Theory]
    [InlineData("", "cannot be empty")]
    [InlineData("2FA_SEED", "invalid secret name '2FA_SEED'")]
    [InlineData("MY-KEY", "invalid secret name 'MY-KEY'")]
    [InlineData("A B", "invalid secret name 'A B'")]
    [InlineData("A\nB", "invalid secret name 'A?B'")]
    [InlineData("CAFÉ", "invalid secret name 'CAFÉ'")]
    [InlineData("TAPSTER_MASTER_KEY", "is reserved")]
    public void Check_OtherNames_AreRefusedWithAReason(string name, string reason) =>
        Assert.Contains(reason, SecretName.Check(name), StringComparison.Ordinal);

    [Fact]
    public void Check_OverlongName_IsRefused() => Assert.NotNull(SecretName.Check(new string('A', SecretName.MaxLength + 1)));
}

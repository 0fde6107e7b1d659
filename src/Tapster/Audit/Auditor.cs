using Tapster.Configuration;
using Tapster.Secrets;
using Tapster.Workers;

namespace Tapster.Audit;

/// <summary>
/// Runs every check of <c>tapster check</c>: the app's own (in Python, through the bridge), the git
/// repository's, the state files' and the server settings', in report order.
/// </summary>
internal static class Auditor
{
    public static async Task<IReadOnlyList<CheckResult>> RunAsync(ServeSettings settings, AppTarget target)
    {
        var secrets = SecretsLocation.Resolve(target.WorkingDirectory);
        var tracked = TrackedFiles.ListAsync(target.WorkingDirectory);
        var facts = await ProbeAsync(settings, target, secrets).ConfigureAwait(false);
        return
        [
            .. AppChecks.Evaluate(facts, settings.Headers),
            .. RepositoryChecks.Evaluate(await tracked.ConfigureAwait(false)),
            StateFileChecks.Evaluate(target.WorkingDirectory, secrets),
            .. ServerChecks.Evaluate(settings, Environment.ProcessorCount, Environment.IsPrivilegedProcess),
        ];
    }

    /// <summary>The app sees what <c>tapster serve</c> would give it: its configured environment and the decrypted secrets.</summary>
    private static Task<System.Text.Json.JsonElement> ProbeAsync(ServeSettings settings, AppTarget target, SecretsLocation secrets)
    {
        IReadOnlyDictionary<string, string> environment;
        try
        {
            environment = SecretStore.WorkerEnvironment(settings.AppEnvironment, SecretStore.Load(secrets));
        }
        catch (SecretsException e)
        {
            return Task.FromResult(AppProbe.Failed(null, e.Message));
        }

        return AppProbe.RunAsync(target.App, target.Pythons, environment);
    }
}

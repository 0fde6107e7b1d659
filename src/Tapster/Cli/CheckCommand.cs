using System.CommandLine;
using Tapster.Audit;
using Tapster.Configuration;
using Tapster.Secrets;
using Tapster.Workers;

namespace Tapster.Cli;

/// <summary>
/// <c>tapster check [APP]</c>: the production-readiness audit of an app and of the configuration
/// <c>tapster serve</c> would run it with (same APP, flags, environment and tapster.toml). Exit 1 when
/// a check fails, 0 otherwise, 2 for a usage or configuration mistake.
/// </summary>
internal static class CheckCommand
{
    private const int FailedExitCode = 1;

    public static Command Create()
    {
        var source = new CommandLineSource();
        var json = new Option<bool>("--json") { Description = "Print the results as a JSON array of {id, status, title, detail, fix}." };
        var command = new Command("check", "Audit an app and its Tapster configuration for production: debug mode, SECRET_KEY, cookies, committed secrets, health endpoint, TLS, workers, migrations...");
        source.AddTo(command);
        command.Options.Add(json);
        command.SetAction(async (result, _) =>
        {
            var config = ConfigLoader.Load(source.Read(result));
            if (config.Errors.Count > 0)
            {
                await ServeCommand.WriteErrorsAsync(config.Errors).ConfigureAwait(false);
                return ServeCommand.ConfigErrorExitCode;
            }

            var settings = config.Settings;
            IReadOnlyList<CheckResult> results;
            try
            {
                results = await Auditor.RunAsync(settings, AppTarget.Resolve(settings)).ConfigureAwait(false);
            }
            catch (Exception e) when (e is AppSpecException or SecretsException)
            {
                await Console.Error.WriteLineAsync(CliError.Line(e.Message)).ConfigureAwait(false);
                return ServeCommand.ConfigErrorExitCode;
            }

            var report = result.GetValue(json)
                ? AuditReport.Json(results)
                : AuditReport.Text(results, colour: !Console.IsOutputRedirected && Environment.GetEnvironmentVariable("NO_COLOR") is null or "");
            await Console.Out.WriteAsync(report).ConfigureAwait(false);
            return results.Any(r => r.Status == CheckStatus.Fail) ? FailedExitCode : 0;
        });
        return command;
    }
}

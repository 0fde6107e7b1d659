using System.CommandLine;
using Tapster.Configuration;
using Tapster.Edge;

namespace Tapster.Cli;

/// <summary>
/// <c>tapster serve [APP]</c>: loads the configuration (flags &gt; TAPSTER_* environment &gt; tapster.toml
/// &gt; defaults) and runs the server, or prints every configuration problem and exits with 2.
/// </summary>
internal static class ServeCommand
{
    /// <summary>Usage and configuration mistakes: nothing was started.</summary>
    public const int ConfigErrorExitCode = 2;

    public static Command Create()
    {
        var source = new CommandLineSource();
        var command = new Command("serve", "Run a WSGI app (Flask, Django, any PEP 3333 app) in production mode.");
        source.AddTo(command);
        command.SetAction(async (result, _) =>
        {
            var inputs = source.Read(result);
            var config = ConfigLoader.Load(inputs);
            if (config.Errors.Count > 0)
            {
                await WriteErrorsAsync(config.Errors).ConfigureAwait(false);
                return ConfigErrorExitCode;
            }

            return await ServerHost.RunAsync(config.Settings, config.FileName, () => ConfigLoader.Load(inputs), Console.Error).ConfigureAwait(false);
        });
        return command;
    }

    /// <summary>Every problem, one line each, in the form every usage error takes.</summary>
    public static async Task WriteErrorsAsync(IReadOnlyList<ConfigError> errors)
    {
        foreach (var error in errors)
        {
            await Console.Error.WriteLineAsync(CliError.Line(error.ToString())).ConfigureAwait(false);
        }
    }
}

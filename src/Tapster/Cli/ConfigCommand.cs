using System.CommandLine;
using Tapster.Configuration;

namespace Tapster.Cli;

/// <summary>
/// <c>tapster config check|show|docs</c>: the configuration <c>serve</c> would run with, checked or
/// printed without starting anything, and the reference generated from the schema.
/// </summary>
internal static class ConfigCommand
{
    public static Command Create() => new("config", "Check or show the configuration tapster serve would use, or print its reference.")
    {
        WithConfiguration("check", "Validate tapster.toml, the TAPSTER_* environment and the flags, and check what serve checks before it starts Python (the app, the interpreter, the secrets, certificates and static directories), without starting anything; exit 0 when all is well, 2 otherwise.", Check),
        WithConfiguration("show", "Print every effective setting and where it came from (default, file:line, env NAME, flag); secrets are masked.", Show),
        Docs(),
    };

    private static Command WithConfiguration(string name, string description, Func<ConfigResult, Task<int>> action)
    {
        var source = new CommandLineSource();
        var command = new Command(name, description);
        source.AddTo(command);
        command.SetAction(async (result, _) =>
        {
            var config = ConfigLoader.Load(source.Read(result));
            if (config.Errors.Count > 0)
            {
                await ServeCommand.WriteErrorsAsync(config.Errors).ConfigureAwait(false);
                return ServeCommand.ConfigErrorExitCode;
            }

            return await action(config).ConfigureAwait(false);
        });
        return command;
    }

    private static async Task<int> Check(ConfigResult config)
    {
        try
        {
            // What serve checks before it starts Python, short of binding the ports (a running server
            // holds them while its next configuration is checked).
            Edge.ServerHost.Prepare(config.Settings, warning => Console.Error.WriteLine($"tapster: warning: {warning}"));
        }
        catch (Edge.PreflightException e)
        {
            await Console.Error.WriteLineAsync(CliError.Line(e.Message)).ConfigureAwait(false);
            return ServeCommand.ConfigErrorExitCode;
        }

        await Console.Out.WriteLineAsync($"configuration OK ({config.FileName ?? "no config file"})").ConfigureAwait(false);
        return 0;
    }

    private const int MaxAlignedWidth = 72;

    private static async Task<int> Show(ConfigResult config)
    {
        // Sources line up in one column, except after the few long values (a list of types, a
        // certificate set), which would otherwise pad every line to hundreds of columns.
        var width = config.Values.Select(v => v.Key.Length + v.ShownValue.Length + 3).Where(w => w <= MaxAlignedWidth).DefaultIfEmpty(0).Max();
        foreach (var value in config.Values)
        {
            var assignment = $"{value.Key} = {value.ShownValue}";
            await Console.Out.WriteLineAsync($"{assignment.PadRight(width)}  # {value.Source}").ConfigureAwait(false);
        }

        // Without `python`, which interpreter serves depends on the app's directory and the machine.
        if (config.Settings.Python is null && TryResolve(config.Settings) is { } target)
        {
            await Console.Out.WriteLineAsync($"# python unset: tried in this order until one imports the app: {string.Join(", ", target.Pythons)}").ConfigureAwait(false);
        }

        return 0;
    }

    private static Workers.AppTarget? TryResolve(ServeSettings settings)
    {
        try
        {
            return Workers.AppTarget.Resolve(settings);
        }
        catch (Workers.AppSpecException)
        {
            return null; // config check says what is wrong with the app; show only shows
        }
    }

    private static Command Docs()
    {
        var command = new Command("docs", "Print the configuration reference (docs/config.md) generated from the schema.");
        command.SetAction(async (_, _) =>
        {
            await Console.Out.WriteAsync(ConfigDocs.Generate()).ConfigureAwait(false);
            return 0;
        });
        return command;
    }
}

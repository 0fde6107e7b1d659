using System.CommandLine;
using Tapster;
using Tapster.Cli;

RuntimeTuning.ApplyOrReexecute(args);

var root = new RootCommand("Tapster runs Python web apps (WSGI: Flask, Django, ...) in production: one program for the server, its worker processes and their supervision.")
{
    ServeCommand.Create(),
    ConfigCommand.Create(),
    SecretsCommand.Create(),
    CheckCommand.Create(),
};

// No command at all: the overview of the commands helps more than an error would.
if (args.Length == 0)
{
    await root.Parse(["--help"]).InvokeAsync().ConfigureAwait(false);
    return 2;
}

var parsed = root.Parse(args);

if (parsed.Errors.Count > 0)
{
    // One line naming the problem, exit code 2: the contract for every usage mistake.
    var names = new List<string>();
    for (var result = parsed.CommandResult; result is not null; result = result.Parent as System.CommandLine.Parsing.CommandResult)
    {
        names.Insert(0, result.Command == root ? "tapster" : result.Command.Name);
    }

    var command = string.Join(' ', names);
    // An unknown word says more than "Required command was not provided", which comes first.
    var problem = SecretsCommand.ValueGivenAsArgument(parsed)
        ?? (parsed.UnmatchedTokens.Count > 0 ? $"'{parsed.UnmatchedTokens[0]}' is not a command or argument of '{command}'" : parsed.Errors[0].Message);
    await Console.Error.WriteLineAsync(Tapster.Cli.CliError.Line($"{problem} (see '{command} --help')")).ConfigureAwait(false);
    return 2;
}

return await parsed.InvokeAsync().ConfigureAwait(false);

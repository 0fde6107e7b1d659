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
    await Console.Error.WriteLineAsync(Tapster.Cli.CliError.Line($"{parsed.Errors[0].Message} (see '{command} --help')")).ConfigureAwait(false);
    return 2;
}

return await parsed.InvokeAsync().ConfigureAwait(false);

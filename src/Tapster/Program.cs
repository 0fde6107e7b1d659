using System.CommandLine;
using Tapster.Cli;

var root = new RootCommand("Tapster runs Python web apps (WSGI: Flask, Django, ...) in production: one program for the server, its worker processes and their supervision.")
{
    ServeCommand.Create(),
};

return await root.Parse(args).InvokeAsync().ConfigureAwait(false);

using System.CommandLine;
using System.CommandLine.Parsing;

namespace Tapster.Configuration;

/// <summary>
/// The schema's flags as System.CommandLine symbols, shared by <c>serve</c> and <c>config</c>. They only
/// collect what was typed: defaults, environment twins and validation are the loader's, so that every
/// problem is reported together and in one wording.
/// </summary>
internal sealed class CommandLineSource
{
    private readonly List<(Setting Setting, Symbol Symbol)> _symbols = [];

    private readonly Option<string> _config = new(ConfigLoader.ConfigFlag)
    {
        Description = $"The config file. Default: {ConfigLoader.FileName} in --chdir, else in the directory a path APP names, else in the current directory, if there is one. [env: {ConfigLoader.ConfigEnvVar}]",
        HelpName = "PATH",
    };

    public CommandLineSource()
    {
        foreach (var setting in SettingsSchema.All.Where(s => s.Flag is not null))
        {
            _symbols.Add((setting, CreateSymbol(setting)));
        }
    }

    public void AddTo(Command command)
    {
        foreach (var (_, symbol) in _symbols)
        {
            switch (symbol)
            {
                case Argument argument:
                    command.Arguments.Add(argument);
                    break;
                case Option option:
                    command.Options.Add(option);
                    break;
            }
        }

        command.Options.Add(_config);
    }

    public ConfigInputs Read(ParseResult result)
    {
        var flags = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (setting, symbol) in _symbols)
        {
            IEnumerable<string> values = symbol switch
            {
                // Given as --no-preload=false it still counts as given: it overrides the environment and the file.
                Option<bool> flag => result.GetResult(flag) is { Implicit: false } ? [result.GetValue(flag) ? "true" : "false"] : [],
                Option option => result.GetResult(option)?.Tokens.Select(t => t.Value) ?? [],
                Argument argument => result.GetResult(argument)?.Tokens.Select(t => t.Value) ?? [],
                _ => [],
            };
            if (values.Any())
            {
                flags[setting.Key] = string.Join(',', values);
            }
        }

        return new ConfigInputs
        {
            Flags = flags,
            ConfigFlag = result.GetValue(_config),
            Environment = ServeSettings.ProcessEnvironment(),
            WorkingDirectory = Environment.CurrentDirectory,
        };
    }

    private static Symbol CreateSymbol(Setting setting)
    {
        var description = $"{setting.FlagDoc ?? $"{setting.Doc} Default: {setting.DefaultText(SettingsSchema.Defaults)}."} [env: {setting.EnvVar}]";
        if (setting.IsPositional)
        {
            var argument = new Argument<string>(setting.Flag!) { Description = description, Arity = ArgumentArity.ZeroOrOne };
            argument.Validators.Add(r =>
            {
                if (r.Tokens is [{ Value: var value }] && value.StartsWith('-'))
                {
                    r.AddError($"unknown option '{value}'");
                }
            });
            return argument;
        }

        string[] aliases = setting.Alias is null ? [] : [setting.Alias];
        Option option = setting.Shape switch
        {
            CliShape.Switch => new Option<bool>(setting.Flag!, aliases),
            CliShape.List => new Option<string[]>(setting.Flag!, aliases),
            _ => new Option<string>(setting.Flag!, aliases),
        };
        option.Description = description;
        option.HelpName = setting.Shape == CliShape.Switch ? null : setting.HelpName;
        return option;
    }
}

using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Text;
using Tapster.Configuration;
using Tapster.Secrets;

namespace Tapster.Cli;

/// <summary>
/// <c>tapster secrets set|get|list|rm|import|rotate-key</c>. Values travel only through stdin, a hidden
/// prompt or a file, never argv (which every user on the machine can read in /proc). Messages go to stderr;
/// stdout carries only what <c>get</c> and <c>list</c> return. Exit codes: 0 done, 1 a damaged secrets file,
/// a missing secret or an I/O failure, 2 a usage or configuration problem (bad name, no key, wrong key).
/// </summary>
internal static class SecretsCommand
{
    public static Command Create()
    {
        var file = new Option<string?>("--file")
        {
            Description = $"The encrypted secrets file. Default: .tapster/secrets.enc in the current directory. [env: {SecretsLocation.SecretsFileVariable}]",
            HelpName = "PATH",
            Recursive = true,
        };
        var keyFile = new Option<string?>("--key-file")
        {
            Description = $"The master key file (mode 0600). Default: .tapster/master.key. TAPSTER_MASTER_KEY, when set, wins. [env: {SecretsLocation.KeyFileVariable}]",
            HelpName = "PATH",
            Recursive = true,
        };

        var set = new Command("set", "Store a secret. The value is read from stdin, or asked for without echo at a terminal; never from the command line.");
        var setName = NameArgument(set);
        set.SetAction(r => Run(r, file, keyFile, location => Set(location, r.GetValue(setName)!)));

        var get = new Command("get", "Print a secret's value.");
        var getName = NameArgument(get);
        get.SetAction(r => Run(r, file, keyFile, location => Get(location, r.GetValue(getName)!)));

        var list = new Command("list", "List the secrets' names and when each last changed (never their values).");
        list.SetAction(r => Run(r, file, keyFile, List));

        var remove = new Command("rm", "Remove a secret.");
        var removeName = NameArgument(remove);
        remove.SetAction(r => Run(r, file, keyFile, location => Remove(location, r.GetValue(removeName)!)));

        var import = new Command("import", "Add or update secrets from a dotenv file: NAME=VALUE lines, # comments, quotes, 'export' prefixes.");
        var envFile = new Argument<string>("FILE") { Description = "The dotenv file, e.g. .env.production." };
        import.Arguments.Add(envFile);
        import.SetAction(r => Run(r, file, keyFile, location => Import(location, r.GetValue(envFile)!)));

        var rotate = new Command("rotate-key", "Re-encrypt every secret under a new random master key, and say where the new key is and how to install it.");
        var newKeyFile = new Option<string?>("--new-key-file")
        {
            Description = "Write the new key here instead of replacing the key file (or, for a key from TAPSTER_MASTER_KEY or systemd, instead of KEYFILE.new).",
            HelpName = "PATH",
        };
        rotate.Options.Add(newKeyFile);
        rotate.SetAction(r => Run(r, file, keyFile, location => Rotate(location, r.GetValue(newKeyFile))));

        return new Command("secrets", "Manage the app's encrypted secrets; workers get them as environment variables. Exit codes: 1 damaged secrets file, missing secret, or a failure to write it; 2 usage (an unreadable FILE to import too) or key problem.")
        {
            file, keyFile, set, get, list, remove, import, rotate,
        };
    }

    private static Argument<string> NameArgument(Command command)
    {
        var name = new Argument<string>("NAME") { Description = "The secret's name, which is also its environment variable: [A-Za-z_][A-Za-z0-9_]*." };
        name.Validators.Add(r =>
        {
            if (SecretName.Check(r.GetValueOrDefault<string>()) is { } problem)
            {
                r.AddError(problem);
            }
        });
        command.Arguments.Add(name);
        return name;
    }

    /// <summary>`secrets set NAME VALUE`: the one mistake worth its own answer, since the value must never be an argument.</summary>
    public static string? ValueGivenAsArgument(ParseResult parsed) =>
        parsed.CommandResult.Command.Name == "set" && parsed.CommandResult.Parent is CommandResult { Command.Name: "secrets" } && parsed.UnmatchedTokens.Count > 0
            ? "the value goes to stdin, never on the command line (every user on the machine can read a process's arguments): echo 'VALUE' | tapster secrets set NAME"
            : null;

    private static int Run(ParseResult result, Option<string?> file, Option<string?> keyFile, Func<SecretsLocation, int> action)
    {
        try
        {
            return action(SecretsLocation.Resolve(Environment.CurrentDirectory, result.GetValue(file), result.GetValue(keyFile)));
        }
        catch (SecretsException e)
        {
            Console.Error.WriteLine(CliError.Line(e.Message));
            return e.ExitCode;
        }
    }

    private static int Set(SecretsLocation location, string name)
    {
        // Key and file problems surface before the user types a value; a key is created only after it.
        var key = SecretStore.Exists(location) ? SecretStore.RequireKey(location) : MasterKeyLocator.Find(location);
        try
        {
            var entries = key is null ? [] : SecretStore.Read(location, key, Warn);
            var value = ReadValue(name);
            if (SecretsFile.CheckValue(name, value) is { } problem)
            {
                throw new SecretsException(SecretsErrorKind.Configuration, problem);
            }

            key ??= OpenOrCreateKey(location);
            var existed = entries.RemoveAll(e => e.Name == name) > 0;
            entries.Add(new SecretEntry(name, value, TimeProvider.System.GetUtcNow()));
            SecretStore.Write(location, key, entries);
            Console.Error.WriteLine($"tapster: {(existed ? "updated" : "stored")} secret {name}{(value.Length == 0 ? " (an empty value)" : "")} in {location.SecretsFile}");
            return 0;
        }
        finally
        {
            key?.Dispose();
        }
    }

    private static int Get(SecretsLocation location, string name)
    {
        using var key = SecretStore.RequireKey(location);
        var entry = SecretStore.Read(location, key, Warn).Find(e => e.Name == name)
            ?? throw NoSuchSecret(location, name);

        // One newline after the value: `set` takes one off stdin, so get > f; set < f round-trips exactly.
        using var stdout = Console.OpenStandardOutput();
        stdout.Write(Encoding.UTF8.GetBytes(entry.Value + "\n"));
        return 0;
    }

    private static int List(SecretsLocation location)
    {
        if (!SecretStore.Exists(location))
        {
            Console.Error.WriteLine($"tapster: no secrets yet ({location.SecretsFile} does not exist)");
            return 0;
        }

        using var key = SecretStore.RequireKey(location);
        var entries = SecretStore.Read(location, key, Warn);
        if (entries.Count == 0)
        {
            Console.Error.WriteLine($"tapster: no secrets in {location.SecretsFile}");
        }

        var width = entries.Count == 0 ? 0 : entries.Max(e => e.Name.Length);
        foreach (var entry in entries)
        {
            Console.Out.WriteLine($"{entry.Name.PadRight(width)}  {entry.ChangedAt.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture)}");
        }

        return 0;
    }

    private static int Remove(SecretsLocation location, string name)
    {
        using var key = SecretStore.RequireKey(location);
        var entries = SecretStore.Read(location, key, Warn);
        if (entries.RemoveAll(e => e.Name == name) == 0)
        {
            throw NoSuchSecret(location, name);
        }

        SecretStore.Write(location, key, entries);
        Console.Error.WriteLine($"tapster: removed secret {name} from {location.SecretsFile}");
        return 0;
    }

    private static int Import(SecretsLocation location, string envFile)
    {
        string text;
        try
        {
            text = new UTF8Encoding(false, true).GetString(BoundedFile.ReadAllBytes(envFile, DotEnvFile.MaxBytes));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or DecoderFallbackException)
        {
            throw new SecretsException(SecretsErrorKind.Configuration, $"cannot read {envFile}: {e.Message}");
        }

        var (values, problems) = DotEnv.Parse(text);
        var errors = problems.Select(p => p.ToString()).ToList();
        errors.AddRange(values.Select(v => SecretName.Check(v.Name) is { } problem ? $"line {v.Line}: {problem}" : null).OfType<string>());
        errors.AddRange(values.Select(v => SecretsFile.CheckValue(v.Name, v.Value)).OfType<string>());
        if (errors.Count > 0)
        {
            var more = errors.Count > 1 ? $" (and {errors.Count - 1} more)" : "";
            throw new SecretsException(SecretsErrorKind.Configuration, $"{envFile} {errors[0]}{more}; nothing was imported");
        }

        if (values.Count == 0)
        {
            throw new SecretsException(SecretsErrorKind.Configuration, $"{envFile} holds no NAME=VALUE lines; nothing was imported");
        }

        using var key = OpenOrCreateKey(location);
        var entries = SecretStore.Read(location, key, Warn).ToDictionary(e => e.Name, StringComparer.Ordinal);
        var now = TimeProvider.System.GetUtcNow();
        int added = 0, changed = 0;
        foreach (var (name, value, _) in values)
        {
            if (!entries.TryGetValue(name, out var old))
            {
                added++;
            }
            else if (old.Value != value)
            {
                changed++;
            }
            else
            {
                continue;
            }

            entries[name] = new SecretEntry(name, value, now);
        }

        SecretStore.Write(location, key, entries.Values);
        Console.Error.WriteLine($"tapster: imported {values.Count} secrets from {envFile} into {location.SecretsFile} ({added} new, {changed} changed, {values.Count - added - changed} unchanged)");
        return 0;
    }

    private static int Rotate(SecretsLocation location, string? newKeyFile)
    {
        var rotation = SecretStore.RotateKey(location, newKeyFile);
        Console.Error.WriteLine($"tapster: re-encrypted {rotation.Count} secrets in {location.SecretsFile} under a new master key (key id {rotation.NewKeyId}, was {rotation.OldKeyId})");
        if (rotation.Installed)
        {
            Console.Error.WriteLine($"tapster: the new key replaced {rotation.NewKeyPath} (mode 0600); the old key no longer opens the secrets file, so update any other copy of it (backups, other servers)");
        }
        else
        {
            var old = rotation.OldSource switch
            {
                MasterKeySource.Environment => SecretsLocation.MasterKeyVariable,
                MasterKeySource.Credential => $"the systemd credential {SecretsLocation.CredentialName}",
                _ => "the key file",
            };
            Console.Error.WriteLine($"tapster: the new key is in {rotation.NewKeyPath} (mode 0600); the old key in {old} no longer opens the secrets file.");
            Console.Error.WriteLine($"tapster: install it: {SecretsLocation.MasterKeyVariable}=\"$(cat {rotation.NewKeyPath})\", or systemd LoadCredential={SecretsLocation.CredentialName}:/path/to/it, or mv it to the key file; then delete {rotation.NewKeyPath}");
        }

        return 0;
    }

    private static MasterKey OpenOrCreateKey(SecretsLocation location)
    {
        var key = SecretStore.FindOrCreateKey(location, out var created);
        if (created)
        {
            Console.Error.WriteLine($"tapster: created a new master key in {location.KeyFile} (mode 0600, key id {key.KeyId}); keep a copy somewhere safe: without it the secrets cannot be read");
        }

        return key;
    }

    private static SecretsException NoSuchSecret(SecretsLocation location, string name) =>
        new(SecretsErrorKind.NotFound, File.Exists(location.SecretsFile)
            ? $"no secret named {name} in {location.SecretsFile}"
            : $"no secret named {name}: {location.SecretsFile} does not exist");

    private static void Warn(string message) => Console.Error.WriteLine($"tapster: warning: {message}");

    /// <summary>The value from stdin (one trailing newline dropped, as `echo` adds one), or a no-echo prompt at a terminal.</summary>
    private static string ReadValue(string name)
    {
        if (!Console.IsInputRedirected)
        {
            // Enter alone at a hidden prompt is far more often a slip than a wish to empty the secret.
            var typed = PromptHidden($"Value for {name} (input hidden): ");
            return typed.Length > 0 ? typed
                : throw new SecretsException(SecretsErrorKind.Configuration, $"no value typed for {name}; nothing was stored (an empty value can come from stdin: printf '' | tapster secrets set {name})");
        }

        var buffer = new MemoryStream();
        try
        {
            // One byte past the largest value allowed is enough to refuse it; /dev/zero ends there too.
            using var stdin = Console.OpenStandardInput();
            var chunk = new byte[16 * 1024];
            int read;
            while (buffer.Length <= SecretsFile.MaxValueBytes && (read = stdin.Read(chunk)) > 0)
            {
                buffer.Write(chunk, 0, read);
            }
        }
        catch (IOException e)
        {
            throw new SecretsException(SecretsErrorKind.Io, $"cannot read the value of {name} from stdin: {e.Message}", e);
        }

        string value;
        try
        {
            value = new UTF8Encoding(false, true).GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
        }
        catch (DecoderFallbackException)
        {
            throw new SecretsException(SecretsErrorKind.Configuration, $"the value of {name} on stdin is not UTF-8 text");
        }
        finally
        {
            System.Security.Cryptography.CryptographicOperations.ZeroMemory(buffer.GetBuffer());
        }

        return value.EndsWith("\r\n", StringComparison.Ordinal) ? value[..^2]
            : value.EndsWith('\n') ? value[..^1]
            : value;
    }

    private static string PromptHidden(string prompt)
    {
        Console.Error.Write(prompt);
        var value = new StringBuilder();
        while (true)
        {
            var key = Console.ReadKey(intercept: true);
            if (key.Key == ConsoleKey.Enter)
            {
                break;
            }

            if (key.Key == ConsoleKey.Backspace)
            {
                if (value.Length > 0)
                {
                    value.Length--;
                }
            }
            else if (!char.IsControl(key.KeyChar))
            {
                value.Append(key.KeyChar);
            }
        }

        Console.Error.WriteLine();
        return value.ToString();
    }
}

using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using Tapster.Configuration;
using Tapster.Edge;

namespace Tapster.Cli;

/// <summary>
/// <c>tapster serve [APP]</c> and its flags. Every flag has an environment twin, <c>TAPSTER_</c> plus
/// its name in capitals (<c>--max-requests</c> = <c>TAPSTER_MAX_REQUESTS</c>); a flag beats its twin.
/// </summary>
internal static class ServeCommand
{
    private static readonly ServeSettings Defaults = new() { App = "." };

    public static Command Create()
    {
        var app = new Argument<string>("APP")
        {
            Description = "The WSGI app: module:callable, module:factory(), a .py file, or a directory holding wsgi.py or app.py. Default: the current directory.",
            Arity = ArgumentArity.ZeroOrOne,
            DefaultValueFactory = _ => Environment.GetEnvironmentVariable("TAPSTER_APP") ?? ".",
        };
        app.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<string>() is { } value && value.StartsWith('-'))
            {
                r.AddError($"unknown option '{value}'");
            }
        });
        var bind = new Option<string[]>("--bind", "-b")
        {
            Description = "Address to listen on, HOST:PORT; repeat for several. Default: 127.0.0.1:8000.",
            HelpName = "HOST:PORT",
            DefaultValueFactory = _ => Environment.GetEnvironmentVariable("TAPSTER_BIND") is { Length: > 0 } env
                ? env.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                : [.. Defaults.Bind],
        };
        var workers = IntOption("--workers", "-w", "Worker processes. Default: 2 x cores + 1.", Defaults.Workers, 1);
        var threads = IntOption("--threads", null, "Concurrent requests per worker (threads). Default: 4.", Defaults.Threads, 1);
        var timeout = DurationOption("--timeout", "-t", "A request running longer gets 504 and its worker is replaced (after its stack is logged). Seconds, or 500ms/30s/5m.", Defaults.Timeout);
        var graceful = DurationOption("--graceful-timeout", null, "On SIGTERM/SIGINT, how long requests in flight may take to finish.", Defaults.GracefulTimeout);
        var maxRequests = IntOption("--max-requests", null, "Recycle a worker gracefully after this many requests; 0 = never.", Defaults.MaxRequests, 0);
        var jitter = IntOption("--max-requests-jitter", null, "Add up to this many requests at random to --max-requests, so workers do not restart together.", Defaults.MaxRequestsJitter, 0);
        var python = new Option<string?>("--python")
        {
            Description = "Python interpreter. Default: .venv/bin/python or venv/bin/python beside the app, else python3 on PATH, else /usr/bin/python3.",
            HelpName = "PATH",
            DefaultValueFactory = _ => Environment.GetEnvironmentVariable("TAPSTER_PYTHON") is { Length: > 0 } env ? env : null,
        };
        var chdir = new Option<string?>("--chdir")
        {
            Description = "Change to this directory before loading the app.",
            HelpName = "DIR",
            DefaultValueFactory = _ => Environment.GetEnvironmentVariable("TAPSTER_CHDIR") is { Length: > 0 } env ? env : null,
        };
        var noPreload = new Option<bool>("--no-preload")
        {
            Description = "Import the app in each worker instead of once in a zygote that forks them.",
            DefaultValueFactory = _ => IsTrue(Environment.GetEnvironmentVariable("TAPSTER_NO_PRELOAD")),
        };
        var scriptName = new Option<string>("--script-name")
        {
            Description = "URL prefix the app is mounted at: given to it as SCRIPT_NAME and taken off PATH_INFO.",
            HelpName = "PREFIX",
            DefaultValueFactory = _ => Environment.GetEnvironmentVariable("TAPSTER_SCRIPT_NAME") ?? "",
        };
        scriptName.Validators.Add(r =>
        {
            var value = r.GetValueOrDefault<string>();
            if (value.Length > 0 && (!value.StartsWith('/') || value.EndsWith('/')))
            {
                r.AddError($"--script-name '{value}' must start with '/' and not end with one (e.g. /shop)");
            }
        });
        var queueSize = IntOption("--queue-size", null, "Requests that may wait for a free worker; past it, 503 at once.", Defaults.QueueSize, 0);
        var queueTimeout = DurationOption("--queue-timeout", null, "How long a request may wait for a free worker before 503.", Defaults.QueueTimeout);
        var maxBody = IntOption("--max-body-size", null, "Largest request body in MiB; larger gets 413 before any worker sees it.", (int)(Defaults.MaxBodySize / (1024 * 1024)), 0);

        var command = new Command("serve", "Run a WSGI app (Flask, Django, any PEP 3333 app) in production mode.")
        {
            app, bind, workers, threads, timeout, graceful, maxRequests, jitter, python, chdir, noPreload, scriptName, queueSize, queueTimeout, maxBody,
        };
        command.SetAction((result, _) => ServerHost.RunAsync(
            new ServeSettings
            {
                App = result.GetValue(app)!,
                Bind = result.GetValue(bind)!,
                Workers = result.GetValue(workers),
                Threads = result.GetValue(threads),
                Timeout = result.GetValue(timeout),
                GracefulTimeout = result.GetValue(graceful),
                MaxRequests = result.GetValue(maxRequests),
                MaxRequestsJitter = result.GetValue(jitter),
                Python = result.GetValue(python),
                Chdir = result.GetValue(chdir),
                Preload = !result.GetValue(noPreload),
                ScriptName = result.GetValue(scriptName)!,
                QueueSize = result.GetValue(queueSize),
                QueueTimeout = result.GetValue(queueTimeout),
                MaxBodySize = result.GetValue(maxBody) * 1024L * 1024L,
            },
            Console.Error));
        return command;
    }

    private static string EnvName(string flag) => "TAPSTER_" + flag.TrimStart('-').Replace('-', '_').ToUpperInvariant();

    private static bool IsTrue(string? value) => value is "1" or "true" or "yes" or "on";

    private static Option<int> IntOption(string name, string? alias, string description, int fallback, int minimum)
    {
        var option = alias is null ? new Option<int>(name) : new Option<int>(name, alias);
        option.Description = $"{description} [env: {EnvName(name)}]";
        option.HelpName = "N";
        option.CustomParser = result =>
        {
            var fromFlag = result.Tokens.Count > 0;
            var text = fromFlag ? result.Tokens[0].Value : Environment.GetEnvironmentVariable(EnvName(name));
            if (string.IsNullOrEmpty(text))
            {
                return fallback;
            }

            var source = fromFlag ? name : EnvName(name);
            if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed))
            {
                result.AddError($"{source} '{text}' is not a whole number");
                return fallback;
            }

            if (parsed < minimum)
            {
                result.AddError($"{source} must be at least {minimum}, got {parsed}");
                return fallback;
            }

            return parsed;
        };
        option.DefaultValueFactory = option.CustomParser;
        return option;
    }

    private static Option<TimeSpan> DurationOption(string name, string? alias, string description, TimeSpan fallback)
    {
        var option = alias is null ? new Option<TimeSpan>(name) : new Option<TimeSpan>(name, alias);
        option.Description = $"{description} Default: {fallback.TotalSeconds}s. [env: {EnvName(name)}]";
        option.HelpName = "DURATION";
        option.CustomParser = result =>
        {
            var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : Environment.GetEnvironmentVariable(EnvName(name));
            if (string.IsNullOrEmpty(text))
            {
                return fallback;
            }

            if (Duration.TryParse(text, out var duration) && duration > TimeSpan.Zero)
            {
                return duration;
            }

            result.AddError($"{name} '{text}' is not a duration (use seconds, or 500ms, 30s, 5m)");
            return fallback;
        };
        option.DefaultValueFactory = option.CustomParser;
        return option;
    }
}

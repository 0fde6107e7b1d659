using Microsoft.Extensions.Logging;
using Tapster.Configuration;
using Tapster.Secrets;
using Tapster.Telemetry;

namespace Tapster.Edge;

/// <summary>
/// What SIGHUP reads again before the workers are replaced: the configuration (the flags and Tapster's
/// environment of the start, the files as they are now) and the secrets store. The new workers get
/// the app's environment from it: <c>[env]</c>, <c>env_files</c>, NAME_FILE files and the secrets, so a
/// rotated secret or an edited <c>.env</c> takes a reload, not a restart. Every other setting is
/// Tapster's own (listeners, limits, the pool) and takes effect at a restart; one that changed is
/// named in the log. A configuration with a mistake, or secrets that cannot be read, reload nothing.
/// </summary>
/// <param name="secrets">
/// Where the secrets are, as resolved at start: it holds a TAPSTER_MASTER_KEY value, which is gone from
/// the environment by now (no child may inherit it), so a key given that way still opens the file.
/// </param>
/// <param name="masked">The values the log masks since the start (<see cref="ServerHost.LoggedSecrets"/>).</param>
internal sealed partial class ConfigReload(
    Func<ConfigResult> load, ServeSettings started, SecretsLocation secrets, IEnumerable<KeyValuePair<string, string>> masked, AppOutput appOutput, ILogger logger)
{
    /// <summary>Set by the reload itself, never a setting of Tapster's: its files are what a reload applies.</summary>
    private const string EnvFilesKey = "env_files";

    /// <summary>Every secret-looking value any worker was given, so that the log masks what old workers still hold.</summary>
    private readonly List<KeyValuePair<string, string>> _masked = [.. masked];

    private IReadOnlyDictionary<string, string> _environment = started.AppEnvironment;

    /// <summary>Signal handlers may run at the same time: SIGHUPs are read, and handed on, one at a time and in order.</summary>
    private readonly Lock _gate = new();

    /// <summary>
    /// SIGHUP: reads the configuration and hands the app's new environment to <paramref name="reload"/>
    /// (the supervisor), so the newer configuration is always the one that stays. systemd hears that a
    /// reload began, and that it ended at once when nothing may be reloaded; the supervisor says when a
    /// reload it began ends.
    /// </summary>
    public void Run(Action<IReadOnlyDictionary<string, string>> reload, SystemdNotify? systemd)
    {
        lock (_gate)
        {
            systemd?.Reloading();
            IReadOnlyDictionary<string, string>? environment = null;
            try
            {
                environment = Read();
                if (environment is not null)
                {
                    reload(environment);
                }
            }
            finally
            {
                if (environment is null)
                {
                    systemd?.Reloaded("Reload refused: the configuration or the secrets cannot be read (see the log); serving as before");
                }
            }
        }
    }

    /// <summary>The app's environment for the new workers, or null when nothing may be reloaded (the reason is logged).</summary>
    private IReadOnlyDictionary<string, string>? Read()
    {
        var config = load();
        if (config.Errors.Count > 0)
        {
            LogConfigInvalid(logger, config.Errors.Count, string.Join("; ", config.Errors));
            return null;
        }

        IReadOnlyDictionary<string, string> values;
        try
        {
            values = SecretStore.Load(secrets, warning => LogWarning(logger, warning));
        }
        catch (SecretsException e)
        {
            LogSecretsUnreadable(logger, e.Message);
            return null;
        }

        var restartNeeded = SettingsSchema.All
            .Where(s => s.Key != EnvFilesKey && s.Show(started) != s.Show(config.Settings))
            .Select(s => s.Key)
            .ToList();
        if (restartNeeded.Count > 0)
        {
            LogRestartNeeded(logger, string.Join(", ", restartNeeded));
        }

        var environment = SecretStore.WorkerEnvironment(config.Settings.AppEnvironment, values);
        LogDifferences(environment);
        _masked.AddRange(ServerHost.LoggedSecrets(values, environment));
        appOutput.RedactWith(new SecretRedactor(_masked));
        _environment = environment;
        return environment;
    }

    /// <summary>Which variables the new workers get that the running ones lack, or lose, or get with another value: names only.</summary>
    private void LogDifferences(IReadOnlyDictionary<string, string> next)
    {
        var added = Names(next.Keys.Where(name => !_environment.ContainsKey(name)));
        var removed = Names(_environment.Keys.Where(name => !next.ContainsKey(name)));
        var changed = Names(next.Where(p => _environment.TryGetValue(p.Key, out var before) && before != p.Value).Select(p => p.Key));
        if (added is not null || removed is not null || changed is not null)
        {
            LogEnvironmentChanged(logger, added ?? "none", removed ?? "none", changed ?? "none");
        }
    }

    private static string? Names(IEnumerable<string> names) => string.Join(", ", names.Order(StringComparer.Ordinal)) is { Length: > 0 } list ? list : null;

    [LoggerMessage(EventId = 132, EventName = "reload.config_invalid", Level = LogLevel.Error, Message = "SIGHUP: nothing reloaded, the configuration has {Count} problem(s): {Problems}")]
    private static partial void LogConfigInvalid(ILogger logger, int count, string problems);

    [LoggerMessage(EventId = 133, EventName = "reload.secrets_unreadable", Level = LogLevel.Error, Message = "SIGHUP: nothing reloaded, the secrets cannot be read: {Reason}")]
    private static partial void LogSecretsUnreadable(ILogger logger, string reason);

    [LoggerMessage(EventId = 134, EventName = "reload.restart_needed", Level = LogLevel.Warning, Message = "SIGHUP: {Settings} changed, which takes a restart; a reload gives the new workers the app's code and environment only")]
    private static partial void LogRestartNeeded(ILogger logger, string settings);

    [LoggerMessage(EventId = 135, EventName = "reload.environment", Level = LogLevel.Information, Message = "SIGHUP: the new workers' environment has added {Added}; removed {Removed}; changed {Changed}")]
    private static partial void LogEnvironmentChanged(ILogger logger, string added, string removed, string changed);

    [LoggerMessage(EventId = 136, EventName = "reload.warning", Level = LogLevel.Warning, Message = "SIGHUP: {Warning}")]
    private static partial void LogWarning(ILogger logger, string warning);
}

using System.Globalization;
using Tomlyn.Syntax;

namespace Tapster.Configuration;

/// <summary>
/// The app's environment: the .env files named by <c>env_files</c> (in order), then <c>[env]</c>, then
/// Tapster's own environment on top (environment beats file, as for every setting). Last, the
/// Docker and Kubernetes secret-file convention: X_FILE=/path naming a file sets X to its contents
/// and is not passed on (for inherited variables, only files under the secret mounts).
/// </summary>
internal static partial class AppEnvironmentBuilder
{
    private const string FileSuffix = "_FILE";

    /// <summary>Well above any secret, well below Linux's 128 KiB limit on one environment string.</summary>
    private const int MaxSecretFileBytes = 64 * 1024;

    /// <summary>
    /// Where Docker (/run/secrets) and Kubernetes (/var/run/secrets) mount secret files: the only places an
    /// inherited X_FILE is read from. Inherited variables like SSL_CERT_FILE name files the program
    /// itself must open, so reading every inherited X_FILE would break them.
    /// </summary>
    private static readonly string[] SecretMounts = ["/run/secrets/", "/var/run/secrets/"];

    /// <summary>PASS covers PASSWORD, PASSWD and DB_PASS; DSN is Sentry's, whose URL holds a key.</summary>
    private static readonly string[] SecretWords = ["KEY", "SECRET", "TOKEN", "PASS", "CREDENTIAL", "AUTH", "PRIVATE", "DSN", "PEM"];

    /// <summary>
    /// Variables whose values <c>config show</c> masks and the log redacts: a secret-sounding name, or a
    /// URL carrying a password (<c>postgres://user:pw@db/shop</c>), whatever the name.
    /// </summary>
    public static bool LooksSecret(string name, string value) =>
        SecretWords.Any(w => name.Contains(w, StringComparison.OrdinalIgnoreCase)) || UrlWithPassword().IsMatch(value);

    [System.Text.RegularExpressions.GeneratedRegex(@"^[A-Za-z][A-Za-z0-9+.-]*://[^/@\s:]*:[^/@\s]+@")]
    private static partial System.Text.RegularExpressions.Regex UrlWithPassword();

    public static Dictionary<string, string> Build(ServeSettings settings, ConfigFile? file, ConfigInputs inputs, List<ConfigError> errors, List<EffectiveValue> shown)
    {
        var environment = new Dictionary<string, string>(StringComparer.Ordinal);
        var origins = new Dictionary<string, AppEnvironmentOrigin>(StringComparer.Ordinal);
        foreach (var path in settings.EnvFiles)
        {
            var name = Path.GetRelativePath(inputs.WorkingDirectory, path);
            foreach (var (variable, value, location) in DotEnvFile.Read(path, name, errors))
            {
                environment[variable] = value;
                origins[variable] = new AppEnvironmentOrigin(location.FileAndLine, location, Path.GetDirectoryName(path)!, Secret: false);
            }
        }

        foreach (var (variable, fileValue) in file?.Environment ?? [])
        {
            if (variable.Length == 0 || variable.Any(c => c == '=' || char.IsWhiteSpace(c) || char.IsControl(c)))
            {
                errors.Add(new ConfigError($"env: {ValueParsers.Quote(variable)} is not a variable name (no '=', spaces or control characters)", fileValue.Location));
            }
            else if (AsText(fileValue.Value) is { } value)
            {
                environment[variable] = value;
                origins[variable] = new AppEnvironmentOrigin(fileValue.Location.FileAndLine, fileValue.Location, file!.Directory, Secret: false);
            }
            else
            {
                errors.Add(new ConfigError($"env.{variable} must be a string, number or boolean (the environment holds only text), got {ValueParsers.Describe(fileValue.Value)}", fileValue.Location));
            }
        }

        foreach (var (variable, value) in inputs.Environment)
        {
            if (origins.ContainsKey(variable))
            {
                origins[variable] = new AppEnvironmentOrigin($"env {variable}", null, inputs.WorkingDirectory, Secret: false);
            }

            environment[variable] = value;
        }

        ResolveSecretFiles(environment, origins, inputs.WorkingDirectory, errors);
        foreach (var (variable, origin) in origins.Where(o => environment[o.Key].Contains('\0', StringComparison.Ordinal)))
        {
            // The environment is C strings: everything after the NUL would silently vanish.
            errors.Add(new ConfigError($"env.{variable} holds a NUL character, which the environment cannot carry", origin.Location));
        }

        foreach (var (variable, origin) in origins.Where(o => EnvironmentStringBytes(o.Key, environment[o.Key]) > MaxEnvironmentStringBytes))
        {
            // execve refuses the whole environment (E2BIG) and Python would never start.
            errors.Add(new ConfigError($"env.{variable} takes {EnvironmentStringBytes(variable, environment[variable])} bytes, more than the 128 KiB Linux passes for one variable; put it in a file and pass the path", origin.Location));
        }

        foreach (var (variable, origin) in origins.OrderBy(o => o.Key, StringComparer.Ordinal))
        {
            shown.Add(new EffectiveValue($"{SettingsSchema.EnvTable}.{variable}", ValueParsers.Quote(environment[variable]), origin.Source, origin.Secret || LooksSecret(variable, environment[variable])));
        }

        return environment;
    }

    /// <summary>Linux's MAX_ARG_STRLEN: one NAME=value string of the environment, its NUL included.</summary>
    private const int MaxEnvironmentStringBytes = 128 * 1024;

    private static int EnvironmentStringBytes(string name, string value) =>
        System.Text.Encoding.UTF8.GetByteCount(name) + 1 + System.Text.Encoding.UTF8.GetByteCount(value) + 1;

    private static void ResolveSecretFiles(Dictionary<string, string> environment, Dictionary<string, AppEnvironmentOrigin> origins, string workingDirectory, List<ConfigError> errors)
    {
        foreach (var variable in environment.Keys.Where(k => k.Length > FileSuffix.Length && k.EndsWith(FileSuffix, StringComparison.Ordinal)).ToList())
        {
            var origin = origins.GetValueOrDefault(variable);
            var path = Path.GetFullPath(environment[variable], origin?.Directory ?? workingDirectory);
            if (!File.Exists(path) || (origin?.Location is null && !SecretMounts.Any(m => path.StartsWith(m, StringComparison.Ordinal))))
            {
                // Not a file (LOG_FILE=/var/log/app.log, to be created), or an inherited variable that
                // programs read as a path themselves (SSL_CERT_FILE): an ordinary variable.
                continue;
            }

            var target = variable[..^FileSuffix.Length];
            var where = origin?.Location is null ? $"{variable} (environment)" : variable;
            if (environment.ContainsKey(target))
            {
                // As docker-library's file_env: the two are exclusive, and silently picking one hides a mistake.
                errors.Add(new ConfigError($"{where}: both {target} and {variable} are set; keep one", origin?.Location));
                continue;
            }

            try
            {
                environment[target] = BoundedFile.ReadAllText(path, MaxSecretFileBytes).TrimEnd('\n', '\r');
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                errors.Add(new ConfigError($"{where}: cannot read '{path}': {e.Message}", origin?.Location));
                continue;
            }

            environment.Remove(variable);
            origins.Remove(variable);
            origins[target] = new AppEnvironmentOrigin($"file {path} ({variable})", null, workingDirectory, Secret: true);
        }
    }

    private static string? AsText(ValueSyntax value) => value switch
    {
        StringValueSyntax s => s.Value,
        IntegerValueSyntax i => i.Value.ToString(CultureInfo.InvariantCulture),
        FloatValueSyntax f => f.Value.ToString(CultureInfo.InvariantCulture),
        BooleanValueSyntax b => b.Value ? "true" : "false",
        _ => null,
    };
}

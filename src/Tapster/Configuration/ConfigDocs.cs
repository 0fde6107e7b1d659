using System.Text;

namespace Tapster.Configuration;

/// <summary>
/// docs/config.md, made from the schema (<c>tapster config docs</c>); a unit test fails when the
/// committed file differs, so the reference cannot drift from the code.
/// </summary>
internal static class ConfigDocs
{
    /// <summary>The example in the reference; a unit test loads it, so it stays valid.</summary>
    public const string Example = """
        app = "wsgi:app"
        python = ".venv/bin/python"
        env_files = [".env.production"]

        [http]
        listen = ["0.0.0.0:8000", "[::]:8000"]
        script_name = "/shop"

        [workers]
        count = "auto"
        threads = 4
        timeout = "30s"
        max_requests = 10000
        max_requests_jitter = 500

        [queue]
        size = 1024
        timeout = "30s"

        [limits]
        max_body_size = "100MiB"

        [env]
        FLASK_DEBUG = 0
        DATABASE_URL = "postgresql://shop@localhost/shop"
        DATABASE_PASSWORD_FILE = "/run/secrets/db_password"
        """;

    public static string Generate()
    {
        var text = new StringBuilder();
        text.Append($"""
            # Configuration reference

            <!-- Generated from src/Tapster/Configuration/SettingsSchema.cs by `tapster config docs > docs/config.md`. Do not edit. -->

            `tapster serve` takes each setting from the first of these that sets it:

            1. a flag (`--workers 8`)
            2. its environment twin: `TAPSTER_` and the flag's name in capitals (`TAPSTER_WORKERS=8`)
            3. the config file
            4. the default

            The config file is `{ConfigLoader.FileName}` next to the app: in the `--chdir` directory, else the current
            one. It is optional. `{ConfigLoader.ConfigFlag} PATH` (or `{ConfigLoader.ConfigEnvVar}`) names another file, which must exist.
            Relative paths in the file are relative to the file's directory.

            Every problem is reported at start-up, all at once, each with its file, line and column, and Tapster
            exits with code 2 without starting anything: a wrong type, a value out of range, an unknown key (with
            the nearest known one), a bad duration or size. A `TAPSTER_` environment variable Tapster does not read
            is an error too, naming the nearest one (`TAPSTER_WORKER` is a typo for `TAPSTER_WORKERS`). `tapster config check` does the same checks, then
            those `serve` makes before it starts Python (the APP's file or directory exists, the interpreter exists,
            the secrets open, the certificates load, the static directories exist), and stops there (exit 0 or 2):
            whether the app's module imports is only known once Python runs it, which `tapster check` does;
            `tapster config show` prints every effective value and where it came from, with
            secrets masked. Both take the same APP, flags and environment as `tapster serve`.

            Durations: `500ms`, `30s`, `5m`, `1h`; a plain number is seconds. Sizes: `512KB`, `10MB` (powers of
            1000), `512KiB`, `100MiB`, `1GiB` (powers of 1024); a plain number is bytes.

            ## Example

            ```toml
            {Example}
            ```


            """);
        foreach (var section in SettingsSchema.All.GroupBy(Section))
        {
            text.Append($"""
                ## {(section.Key.Length == 0 ? "Top level" : $"[{section.Key}]")}

                | key | flag | environment | type | default | what |
                |---|---|---|---|---|---|

                """);
            foreach (var setting in section)
            {
                var flag = setting.Flag is null ? "" : setting.Alias is null ? $"`{setting.Flag}`" : $"`{setting.Flag}`, `{setting.Alias}`";
                var environment = setting.EnvVar is null ? "" : $"`{setting.EnvVar}`";
                var defaultText = setting.DefaultDoc ?? $"`{setting.Show(SettingsSchema.Defaults)}`";
                var key = section.Key.Length == 0 ? setting.Key : setting.Key[(section.Key.Length + 1)..];
                text.Append($"| `{key}` | {flag} | {environment} | {setting.TypeName} | {defaultText} | {setting.Doc}{(setting.Secret ? " Secret: masked by `config show`." : "")} |\n");
            }

            text.Append('\n');
        }

        text.Append($"""
            ## [{SettingsSchema.EnvTable}]: the app's environment

            The app starts with Tapster's own environment. On top of it, in this order, later winning:

            1. the files named by `env_files`, `NAME=value` per line (`#` comments, `export `, single or double
               quotes). Only the files named there are read: a stray `.env` changes nothing. A missing file is an
               error.
            2. the `[{SettingsSchema.EnvTable}]` table: strings, numbers and booleans, given to the app as strings.

            A variable set in Tapster's own environment beats both, as the environment beats the file for every
            setting.

            Then the secret-file convention of Docker and Kubernetes: a variable `X_FILE` whose value names an
            existing file (relative to the config file when set there) sets `X` to the file's contents, trailing
            newline removed, and `X_FILE` itself is not passed on. A file that cannot be read, larger than 64 KiB,
            or an `X` that is also set, is an error. Variables set by `[env]` or `env_files` follow the convention
            wherever their file is; variables inherited from Tapster's environment only when their file is under
            `/run/secrets/` or `/var/run/secrets/`, where Docker and Kubernetes mount secrets, because inherited
            ones like `SSL_CERT_FILE` name files that programs open themselves. Values travel in the worker's
            environment, never on a command line.

            `config show` masks the values of variables whose names contain KEY, SECRET, TOKEN, PASS,
            CREDENTIAL, AUTH, PRIVATE, DSN or PEM, URLs that carry a password (`postgres://user:pw@db`), and
            every value read from an `X_FILE`. The same values (8 characters or more) are masked in the
            app's output in the log, as `tapster secrets` values are.

            """);
        return text.ToString();
    }

    private static string Section(Setting setting)
    {
        var dot = setting.Key.IndexOf('.', StringComparison.Ordinal);
        return dot < 0 ? "" : setting.Key[..dot];
    }
}

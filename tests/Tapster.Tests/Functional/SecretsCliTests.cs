using System.Diagnostics;
using System.Text;

namespace Tapster.Tests.Functional;

/// <summary>
/// <c>tapster secrets ...</c> run as the real binary, each test in its own temporary app directory.
/// In the functional collection so the launcher's build never runs twice at once.
/// </summary>
[Collection(FunctionalGroup.Name)]
public sealed class SecretsCliTests : IDisposable
{
    readonly DirectoryInfo app = Directory.CreateTempSubdirectory("tapster-secrets-ft-");

    public void Dispose() => app.Delete(recursive: true);

    string At(params string[] parts) => Path.Combine([app.FullName, .. parts]);

    [Fact]
    public async Task Set_list_get_and_rm_keep_values_off_argv_and_out_of_list()
    {
        var stored = await RunAsync(["secrets", "set", "DATABASE_URL"], stdin: "postgres://shop:s3cr3t-pw@db/shop\n");
        Assert.True(stored.Code == 0, stored.ToString());
        Assert.Contains("created a new master key in " + At(".tapster", "master.key"), stored.Stderr, StringComparison.Ordinal);
        Assert.Equal(0, (await RunAsync(["secrets", "set", "API_TOKEN"], stdin: "tok_live_abc123")).Code);

        var list = await RunAsync(["secrets", "list"]);
        Assert.Equal(0, list.Code);
        var lines = list.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["API_TOKEN", "DATABASE_URL"], lines.Select(l => l.Split(' ')[0]));
        Assert.All(lines, l => Assert.Matches(@"^\w+ +\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", l));
        Assert.DoesNotContain("s3cr3t-pw", list.Stdout + list.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("tok_live", list.Stdout + list.Stderr, StringComparison.Ordinal);

        Assert.Equal("postgres://shop:s3cr3t-pw@db/shop\n", (await RunAsync(["secrets", "get", "DATABASE_URL"])).Stdout);

        Assert.Equal(0, (await RunAsync(["secrets", "rm", "API_TOKEN"])).Code);
        var gone = await RunAsync(["secrets", "get", "API_TOKEN"]);
        Assert.Equal(1, gone.Code);
        Assert.Equal($"tapster: error: no secret named API_TOKEN in {At(".tapster", "secrets.enc")}", gone.Stderr.Trim());
    }

    [Fact]
    public async Task A_fresh_project_gets_a_private_key_file_and_secrets_file()
    {
        Assert.Equal(0, (await RunAsync(["secrets", "set", "A"], stdin: "1")).Code);

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(At(".tapster")));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(At(".tapster", "master.key")));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(At(".tapster", "secrets.enc")));
    }

    [Fact]
    public async Task A_value_on_the_command_line_is_a_usage_error()
    {
        var result = await RunAsync(["secrets", "set", "DB_PASSWORD", "hunter22"]);

        Assert.Equal(2, result.Code);
        Assert.StartsWith("tapster: error: the value goes to stdin, never on the command line", result.Stderr, StringComparison.Ordinal);
        Assert.Single(result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.DoesNotContain("hunter22", result.Stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(At(".tapster")));
    }

    [Fact]
    public async Task Tapster_alone_shows_the_commands_and_an_unknown_one_is_named()
    {
        var bare = await RunAsync([]);
        Assert.Equal(2, bare.Code);
        Assert.Contains("serve", bare.Stdout, StringComparison.Ordinal);
        Assert.Contains("secrets", bare.Stdout, StringComparison.Ordinal);

        var help = await RunAsync(["serve", "--help"]);
        var noPreload = help.Stdout.Split('\n').Single(l => l.TrimStart().StartsWith("--no-preload", StringComparison.Ordinal));
        Assert.Contains("Import the app in each worker instead", noPreload, StringComparison.Ordinal);
        Assert.DoesNotContain("Default: true", help.Stdout, StringComparison.Ordinal); // said of a --no-* flag, it read as "on by default"

        var unknown = await RunAsync(["srve"]);
        Assert.Equal(2, unknown.Code);
        Assert.Equal("tapster: error: 'srve' is not a command or argument of 'tapster' (see 'tapster --help')", unknown.Stderr.Trim());
    }

    [Fact]
    public async Task An_invalid_name_is_a_usage_error()
    {
        var result = await RunAsync(["secrets", "set", "2FA-SEED"], stdin: "x");

        Assert.Equal(2, result.Code);
        Assert.Contains("invalid secret name '2FA-SEED'", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Import_reads_a_dotenv_file_with_comments_quotes_and_export()
    {
        File.WriteAllText(At("prod.env"), "# production\nexport DATABASE_URL=postgres://db/shop\nGREETING=\"hello\\nworld\" # two lines\nRAW='$NOT_EXPANDED'\n");

        var imported = await RunAsync(["secrets", "import", "prod.env"]);

        Assert.True(imported.Code == 0, imported.ToString());
        Assert.Contains("imported 3 secrets from prod.env", imported.Stderr, StringComparison.Ordinal);
        Assert.Equal("hello\nworld\n", (await RunAsync(["secrets", "get", "GREETING"])).Stdout);
        Assert.Equal("$NOT_EXPANDED\n", (await RunAsync(["secrets", "get", "RAW"])).Stdout);
    }

    [Fact]
    public async Task Import_of_a_broken_dotenv_file_changes_nothing()
    {
        Assert.Equal(0, (await RunAsync(["secrets", "set", "KEEP"], stdin: "me")).Code);
        var before = File.ReadAllBytes(At(".tapster", "secrets.enc"));
        File.WriteAllText(At("bad.env"), "A=1\nthis is not an assignment\n");

        var result = await RunAsync(["secrets", "import", "bad.env"]);

        Assert.Equal(2, result.Code);
        Assert.Equal("tapster: error: bad.env line 2: expected NAME=VALUE; nothing was imported", result.Stderr.Trim());
        Assert.Equal(before, File.ReadAllBytes(At(".tapster", "secrets.enc")));
    }

    [Fact]
    public async Task Rotate_key_reencrypts_and_the_old_key_no_longer_opens_the_file()
    {
        Assert.Equal(0, (await RunAsync(["secrets", "set", "A"], stdin: "alpha")).Code);
        File.Copy(At(".tapster", "master.key"), At("old.key"));

        var rotated = await RunAsync(["secrets", "rotate-key"]);

        Assert.True(rotated.Code == 0, rotated.ToString());
        Assert.Contains("the new key replaced " + At(".tapster", "master.key"), rotated.Stderr, StringComparison.Ordinal);
        Assert.Equal("alpha\n", (await RunAsync(["secrets", "get", "A"])).Stdout);
        var stale = await RunAsync(["secrets", "get", "A", "--key-file", At("old.key")]);
        Assert.Equal(2, stale.Code);
        Assert.Contains("was written with a different master key (key id", stale.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Rotate_key_with_the_key_in_the_environment_says_how_to_install_the_new_one()
    {
        var key = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
        var env = new Dictionary<string, string> { ["TAPSTER_MASTER_KEY"] = key };
        Assert.Equal(0, (await RunAsync(["secrets", "set", "A"], stdin: "alpha", env)).Code);
        Assert.False(File.Exists(At(".tapster", "master.key")));

        var rotated = await RunAsync(["secrets", "rotate-key"], env: env);

        Assert.True(rotated.Code == 0, rotated.ToString());
        Assert.Contains($"the new key is in {At(".tapster", "master.key.new")}", rotated.Stderr, StringComparison.Ordinal);
        Assert.Contains("TAPSTER_MASTER_KEY=", rotated.Stderr, StringComparison.Ordinal);
        var newKey = new Dictionary<string, string> { ["TAPSTER_MASTER_KEY"] = File.ReadAllText(At(".tapster", "master.key.new")).Trim() };
        Assert.Equal("alpha\n", (await RunAsync(["secrets", "get", "A"], env: newKey)).Stdout);
    }

    [Fact]
    public async Task A_tampered_secrets_file_fails_closed_with_one_line_naming_it()
    {
        Assert.Equal(0, (await RunAsync(["secrets", "set", "A"], stdin: "alpha")).Code);
        var path = At(".tapster", "secrets.enc");
        var bytes = File.ReadAllBytes(path);
        bytes[^40] ^= 0x04;
        File.WriteAllBytes(path, bytes);

        foreach (var args in new[] { new[] { "secrets", "get", "A" }, ["secrets", "list"], ["secrets", "rm", "A"] })
        {
            var result = await RunAsync(args);
            Assert.Equal(1, result.Code);
            Assert.Equal("", result.Stdout);
            var line = Assert.Single(result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
            Assert.StartsWith($"tapster: error: secrets file {path} failed its integrity check", line, StringComparison.Ordinal);
        }

        var set = await RunAsync(["secrets", "set", "B"], stdin: "beta");
        Assert.Equal(1, set.Code);
        Assert.Equal(bytes, File.ReadAllBytes(path));
    }

    [Fact]
    public async Task A_truncated_secrets_file_fails_closed()
    {
        Assert.Equal(0, (await RunAsync(["secrets", "set", "A"], stdin: "alpha")).Code);
        var path = At(".tapster", "secrets.enc");
        File.WriteAllBytes(path, File.ReadAllBytes(path)[..30]);

        var result = await RunAsync(["secrets", "get", "A"]);

        Assert.Equal(1, result.Code);
        Assert.Equal($"tapster: error: secrets file {path} is truncated (30 bytes); nothing was read or changed", result.Stderr.Trim());
    }

    [Fact]
    public async Task A_group_readable_key_file_is_refused_and_nothing_is_written()
    {
        Assert.Equal(0, (await RunAsync(["secrets", "set", "A"], stdin: "alpha")).Code);
        var before = File.ReadAllBytes(At(".tapster", "secrets.enc"));
        File.SetUnixFileMode(At(".tapster", "master.key"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead);

        var result = await RunAsync(["secrets", "set", "B"], stdin: "beta");

        Assert.Equal(2, result.Code);
        Assert.Contains("is accessible by group or others (mode 0640); refusing to use it: chmod 600", result.Stderr, StringComparison.Ordinal);
        Assert.Equal(before, File.ReadAllBytes(At(".tapster", "secrets.enc")));
    }

    [Fact]
    public async Task A_master_key_of_the_wrong_length_is_a_configuration_error()
    {
        var result = await RunAsync(["secrets", "list"], env: new Dictionary<string, string> { ["TAPSTER_MASTER_KEY"] = "c2hvcnQ=" });
        Assert.Equal(0, result.Code); // no secrets file yet: list needs no key

        Assert.Equal(0, (await RunAsync(["secrets", "set", "A"], stdin: "alpha")).Code);
        var wrong = await RunAsync(["secrets", "list"], env: new Dictionary<string, string> { ["TAPSTER_MASTER_KEY"] = "c2hvcnQ=" });

        Assert.Equal(2, wrong.Code);
        Assert.StartsWith("tapster: error: master key from TAPSTER_MASTER_KEY decodes to 5 bytes, not 32", wrong.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task File_flag_and_environment_twin_choose_the_secrets_file()
    {
        Assert.Equal(0, (await RunAsync(["secrets", "set", "A", "--file", "config/app.secrets"], stdin: "alpha")).Code);
        Assert.True(File.Exists(At("config", "app.secrets")));

        var viaEnvironment = await RunAsync(["secrets", "get", "A"], env: new Dictionary<string, string> { ["TAPSTER_SECRETS_FILE"] = At("config", "app.secrets") });

        Assert.Equal("alpha\n", viaEnvironment.Stdout);
    }

    [Fact]
    public async Task Serve_gives_the_app_its_secrets_in_the_environment_and_never_the_master_key()
    {
        var key = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
        var withKey = new Dictionary<string, string> { ["TAPSTER_MASTER_KEY"] = key };
        Assert.Equal(0, (await RunAsync(["secrets", "set", "SHOP_API_TOKEN"], stdin: "tok-secret-7781", env: withKey)).Code);

        await using var server = await TapsterServer.StartAsync(
            TestPaths.Of("testassets", "envprobe.py"), withKey, "--chdir", app.FullName, "--workers", "1");
        var seen = await server.Client.GetStringAsync("/?k=SHOP_API_TOKEN&k=TAPSTER_MASTER_KEY&k=TAPSTER_MASTER_KEY_FILE");

        Assert.Equal("{\"SHOP_API_TOKEN\": \"tok-secret-7781\", \"TAPSTER_MASTER_KEY\": null, \"TAPSTER_MASTER_KEY_FILE\": null}", seen);
        foreach (var pid in server.ProcessTree().Skip(1))
        {
            // No Python process has it, not even in the environment it started with, which /proc keeps.
            var environ = await File.ReadAllTextAsync($"/proc/{pid}/environ");
            Assert.DoesNotContain(key, environ, StringComparison.Ordinal);
            Assert.DoesNotContain("tok-secret-7781", await File.ReadAllTextAsync($"/proc/{pid}/cmdline"), StringComparison.Ordinal);
        }

        // An app that prints its secret: the log gets the name, not the value.
        await server.Client.GetStringAsync("/?print=SHOP_API_TOKEN");
        await server.WaitForEventAsync(e => e.Str("event") == "app.log" && (e.Str("text") ?? "").StartsWith("SHOP_API_TOKEN=", StringComparison.Ordinal), Http.Short);
        Assert.Contains("SHOP_API_TOKEN=[redacted SHOP_API_TOKEN]", server.AllOutput, StringComparison.Ordinal);
        Assert.DoesNotContain("tok-secret-7781", server.AllOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task At_the_hidden_prompt_a_typed_value_is_stored_and_Enter_alone_stores_nothing()
    {
        // script(1) gives the command a terminal, so Tapster prompts instead of reading a pipe.
        async Task<ProcessRun.Result> AtTerminal(string name, string typed)
        {
            await TapsterServer.EnsureBuiltAsync();
            return await ProcessRun.RunAsync("script", app.FullName, ["-qec", $"{TapsterServer.Binary} secrets set {name}", "/dev/null"],
                unset: ["TAPSTER_MASTER_KEY", "TAPSTER_MASTER_KEY_FILE", "TAPSTER_SECRETS_FILE", "CREDENTIALS_DIRECTORY"], stdin: typed);
        }

        var stored = await AtTerminal("TYPED", "typed-value-1\n");
        Assert.True(stored.Code == 0, stored.ToString());
        var empty = await AtTerminal("TYPED", "\n");
        Assert.True(empty.Code == 2, empty.ToString());
        Assert.Contains("no value typed for TYPED; nothing was stored", empty.Stdout, StringComparison.Ordinal);
        Assert.Equal("typed-value-1", (await RunAsync(["secrets", "get", "TYPED"])).Stdout.TrimEnd('\n'));
    }

    async Task<ProcessRun.Result> RunAsync(string[] args, string? stdin = null, IDictionary<string, string>? env = null)
    {
        await TapsterServer.EnsureBuiltAsync();
        return await ProcessRun.RunAsync(TapsterServer.Binary, app.FullName, args, env,
            unset: ["TAPSTER_MASTER_KEY", "TAPSTER_MASTER_KEY_FILE", "TAPSTER_SECRETS_FILE", "CREDENTIALS_DIRECTORY"], stdin: stdin);
    }
}

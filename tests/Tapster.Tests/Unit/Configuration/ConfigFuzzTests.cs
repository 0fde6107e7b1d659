using System.Text;
using Tapster.Configuration;
using Tapster.Secrets;
using Tapster.Tests.Fuzzing;

namespace Tapster.Tests.Unit.Configuration;

/// <summary>
/// Configuration files are input too (a hand edit, a template gone wrong, a deploy cut short): whatever
/// tapster.toml, a .env file or the secrets file holds, Tapster answers with its one-line errors or its
/// own exception, never another one, and an error never shows a value of the app's environment.
/// Fixed seeds, so that a failure is a case to replay.
/// </summary>
public sealed class ConfigFuzzTests
{
    private const int Rounds = 3_000;

    /// <summary>A value only the [env] table holds: no error may quote it.</summary>
    private const string SecretValue = "hunter2-fuzz-secret";

    private static readonly string Toml = $$"""
        app = "probe:app"
        env_files = [".env"]

        [http]
        listen = ["127.0.0.1:8000", "unix:/tmp/tapster-fuzz.sock"]
        script_name = "/shop"

        [workers]
        count = 3
        threads = 4
        timeout = "30s"
        max_requests = 1000
        max_memory = "512MiB"

        [queue]
        size = 100
        timeout = "5s"

        [limits]
        max_body_size = "10MiB"
        keepalive_timeout = "75s"
        rate = [{ prefix = "/login", rate = "10/m", burst = 5 }]

        [headers]
        content_security_policy = "default-src 'self'"
        cookie_samesite = "Strict"

        [cors]
        allow_origins = ["https://shop.example"]
        max_age = "10m"

        [compression]
        min_size = "1KiB"

        [proxy]
        trusted = ["10.0.0.0/8", "unix"]

        [log]
        level = "warn"
        access_skip = ["/health"]

        [env]
        DB_PASSWORD = "{{SecretValue}}"
        FEATURE = 1
        """;

    private static readonly byte[] TomlInteresting = Encoding.UTF8.GetBytes("\"'[]{}=.,#\\\n\r\t -_0159aeMiBs/:\u00e9\u0000");

    [Fact]
    public void A_mutated_config_file_loads_or_gets_one_line_errors_that_never_show_an_env_value()
    {
        var random = new Random(20261206);
        using var config = new TempConfig();
        config.Write(".env", "FROM_DOTENV=1\n");
        var original = Encoding.UTF8.GetBytes(Toml);
        for (var round = 0; round < Rounds; round++)
        {
            var mutated = original;
            for (var m = 1 + random.Next(3); m > 0; m--)
            {
                mutated = ByteMutator.Mutate(random, mutated, random.Next(ByteMutator.Kinds), TomlInteresting);
            }

            var text = Encoding.UTF8.GetString(mutated);
            config.Write("tapster.toml", text);
            ConfigResult result;
            try
            {
                result = config.Load();
            }
            catch (Exception e)
            {
                throw new InvalidOperationException($"round {round}: {e.GetType().Name} loading:\n{text}", e);
            }

            foreach (var error in result.Errors.Select(e => e.ToString()))
            {
                Assert.False(error.Contains('\n', StringComparison.Ordinal), $"round {round}: a multi-line error: {error}");
                Assert.False(error.Contains("hunter2", StringComparison.Ordinal), $"round {round}: an error shows the env value: {error}");
            }
        }
    }

    [Fact]
    public void A_mutated_env_file_parses_or_gets_errors_and_never_throws()
    {
        var random = new Random(20261207);
        var original = Encoding.UTF8.GetBytes("# shop\nexport DATABASE_URL=\"postgres://shop:pw@db/shop\"\nQUOTED='a b'\nMULTI=\"line1\nline2\"\nEMPTY=\nSPACED = value # comment\n");
        var interesting = Encoding.UTF8.GetBytes("\"'#=\\\n\r\t $`{}export\u0000");
        for (var round = 0; round < Rounds; round++)
        {
            var text = Encoding.UTF8.GetString(ByteMutator.Mutate(random, original, random.Next(ByteMutator.Kinds), interesting));
            var (values, errors) = DotEnv.Parse(text);
            Assert.All(errors, e => Assert.DoesNotContain('\n', e.ToString()));
            Assert.All(values, v => Assert.False(string.IsNullOrEmpty(v.Name), $"round {round}: an entry without a name from:\n{text}"));
        }
    }

    [Fact]
    public void A_secrets_file_changed_anywhere_is_refused_with_a_secrets_exception()
    {
        var random = new Random(20261208);
        using var key = MasterKey.Generate();
        var original = SecretsFile.Encode([new("DATABASE_URL", "postgres://shop:pw@db/shop", DateTimeOffset.UnixEpoch), new("API", "tok", DateTimeOffset.UnixEpoch)], key);
        for (var round = 0; round < Rounds; round++)
        {
            var mutated = ByteMutator.Mutate(random, original, random.Next(ByteMutator.Kinds), [0, 1, 0x7f, 0x80, 0xff]);
            if (mutated.AsSpan().SequenceEqual(original))
            {
                continue; // a byte replaced by itself
            }

            Assert.Throws<SecretsException>(() => SecretsFile.Decode(mutated, key, "/srv/app/.tapster/secrets.enc"));
        }
    }
}

using System.ComponentModel;
using System.Diagnostics;
using System.Text.Json;
using Tapster.Workers;

namespace Tapster.Audit;

/// <summary>
/// Runs the bridge's <c>audit</c> module on the app and returns its facts document. Every way of not
/// getting one (no interpreter, a timeout, garbage on stdout) becomes a document whose load failed, so
/// the checks have one shape to read.
/// </summary>
internal static class AppProbe
{
    private const string Bootstrap = "import sys,os;sys.path.append(os.environ.pop('TAPSTER_BRIDGE'));from tapster_bridge.audit import main;main()";

    /// <summary>Long enough for a big app's import; a health route that hangs must not hang the audit.</summary>
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Tries the interpreters in order, moving on only when a module the app depends on is missing,
    /// the same rule <c>tapster serve</c> follows.
    /// </summary>
    public static async Task<JsonElement> RunAsync(AppSpec app, IReadOnlyList<string> pythons, IReadOnlyDictionary<string, string> environment)
    {
        JsonElement facts = default;
        for (var i = 0; i < pythons.Count; i++)
        {
            facts = await RunOneAsync(app, pythons[i], environment).ConfigureAwait(false);
            var load = facts.GetProperty("load");
            if (load.GetProperty("ok").GetBoolean() || load.GetProperty("kind").GetString() != "missing" || i == pythons.Count - 1)
            {
                break;
            }
        }

        return facts;
    }

    private static async Task<JsonElement> RunOneAsync(AppSpec app, string python, IReadOnlyDictionary<string, string> environment)
    {
        var start = new ProcessStartInfo(python)
        {
            WorkingDirectory = app.Directory,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(Bootstrap);
        start.Environment.Clear();
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        // The bridge ships beside the binary, as for the zygote.
        start.Environment["TAPSTER_BRIDGE"] = Path.Combine(AppContext.BaseDirectory, "bridge");
        start.Environment["TAPSTER_APP_DIR"] = app.Directory;
        start.Environment["TAPSTER_APP_MODULE"] = app.Module;
        start.Environment["TAPSTER_APP_CALLABLE"] = app.Callable;
        // An audit leaves no __pycache__ behind in the app's checkout.
        start.Environment["PYTHONDONTWRITEBYTECODE"] = "1";

        using var process = new Process { StartInfo = start };
        try
        {
            process.Start();
        }
        catch (Win32Exception e)
        {
            return Failed(python, $"cannot start Python '{python}': {e.Message}");
        }

        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(Timeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            return Failed(python, $"importing and probing the app took longer than {Timeout.TotalSeconds:0}s (a health route that never answers?)");
        }

        var output = await stdout.ConfigureAwait(false);
        var errors = await stderr.ConfigureAwait(false);
        try
        {
            using var document = JsonDocument.Parse(output);
            if (document.RootElement.TryGetProperty("load", out _))
            {
                return document.RootElement.Clone();
            }
        }
        catch (JsonException)
        {
            // Python died before writing the document (a crash in a C extension, an os._exit in the app).
        }

        var lastLine = errors.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault();
        return Failed(python, $"Python exited with code {process.ExitCode} before reporting on the app{(lastLine is null ? "" : $": {lastLine}")}");
    }

    /// <summary>A facts document for an app that could not be looked at.</summary>
    public static JsonElement Failed(string? python, string message)
    {
        var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("python", python);
            writer.WriteStartObject("load");
            writer.WriteBoolean("ok", false);
            writer.WriteString("kind", "probe");
            writer.WriteString("message", message);
            writer.WriteEndObject();
            writer.WriteEndObject();
        }

        using var document = JsonDocument.Parse(buffer.ToArray());
        return document.RootElement.Clone();
    }
}

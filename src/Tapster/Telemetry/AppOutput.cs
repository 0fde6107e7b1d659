using System.Globalization;
using System.Text;
using Tapster.Secrets;

namespace Tapster.Telemetry;

/// <summary>
/// The app's own stdout and stderr, captured line by line and logged tagged with the process that
/// wrote them (the zygote, or a worker by id and pid). Secret values an app prints (its config, a
/// connection string in a traceback) are masked before the line reaches the log.
/// </summary>
internal sealed class AppOutput(LogSink sink, SecretRedactor redactor)
{
    /// <summary>Longest line kept whole; a longer one is cut so one runaway print cannot eat memory.</summary>
    private const int MaxLineChars = 16 * 1024;

    /// <summary>Reads <paramref name="stream"/> to its end on a thread of its own (pipes have no async reads here).</summary>
    public void Capture(Stream stream, string source, uint workerId, int pid, string streamName, Action<string>? onLine = null)
    {
        var thread = new Thread(() => Pump(stream, source, workerId, pid, streamName, onLine), 256 * 1024)
        {
            IsBackground = true,
            Name = $"output {source} {streamName}",
        };
        thread.Start();
    }

    public void Write(string source, uint workerId, int pid, string streamName, string line)
    {
        line = redactor.Redact(line);
        if (line.Length > MaxLineChars)
        {
            line = string.Concat(line.AsSpan(0, MaxLineChars), "...");
        }

        if (sink.IsTerminal)
        {
            var text = string.Create(CultureInfo.InvariantCulture,
                $"{DateTime.Now:HH:mm:ss.fff} [{source} {pid} {streamName}] {TerminalText.Sanitize(line)}");
            sink.WriteLine(Encoding.UTF8.GetBytes(text));
            return;
        }

        var json = LineFormatter.BeginJson(out var buffer, streamName == "stderr" ? "warn" : "info", "app.output");
        json.WriteString("source"u8, source);
        json.WriteNumber("worker"u8, workerId);
        json.WriteNumber("pid"u8, pid);
        json.WriteString("stream"u8, streamName);
        json.WriteString("line"u8, line);
        LineFormatter.EndJson(json, sink, buffer);
    }

    private void Pump(Stream stream, string source, uint workerId, int pid, string streamName, Action<string>? onLine)
    {
        try
        {
            using var reader = new StreamReader(stream, Encoding.UTF8, detectEncodingFromByteOrderMarks: false);
            while (reader.ReadLine() is { } line)
            {
                Write(source, workerId, pid, streamName, line);
                onLine?.Invoke(line);
            }
        }
        catch (IOException)
        {
            // The process died mid-line: what it wrote is logged, the rest is gone with it.
        }
    }
}

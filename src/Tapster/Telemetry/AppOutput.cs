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
            foreach (var line in ReadLines(reader))
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

    /// <summary>
    /// Lines ending in LF (a CR before it dropped), each at most one char longer than
    /// <see cref="MaxLineChars"/>, so that <see cref="Write"/> marks the cut: output without a newline
    /// (a progress bar, a 1 GB print) costs at most that much memory. A lone CR stays in its line.
    /// </summary>
    internal static IEnumerable<string> ReadLines(TextReader reader)
    {
        var buffer = new char[4096];
        var line = new StringBuilder();
        int read;
        while ((read = reader.Read(buffer, 0, buffer.Length)) > 0)
        {
            var start = 0;
            for (var i = 0; i < read; i++)
            {
                if (buffer[i] == '\n')
                {
                    Keep(line, buffer, start, i - start);
                    yield return TakeLine(line);
                    start = i + 1;
                }
            }

            Keep(line, buffer, start, read - start);
        }

        if (line.Length > 0)
        {
            yield return TakeLine(line);
        }
    }

    private static void Keep(StringBuilder line, char[] chars, int start, int count) =>
        line.Append(chars, start, Math.Min(count, Math.Max(0, MaxLineChars + 1 - line.Length)));

    private static string TakeLine(StringBuilder line)
    {
        var length = line.Length > 0 && line[^1] == '\r' ? line.Length - 1 : line.Length;
        var text = line.ToString(0, length);
        line.Clear();
        return text;
    }
}

using System.Globalization;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using Tapster.Secrets;

namespace Tapster.Telemetry;

/// <summary>
/// The app's own stdout and stderr, captured line by line and logged tagged with the process that
/// wrote them (the zygote, or a worker by id and pid). Secret values an app prints (its config, a
/// connection string in a traceback) are masked before the line reaches the log.
/// </summary>
internal sealed partial class AppOutput(LogSink sink, SecretRedactor redactor)
{
    private SecretRedactor _redactor = redactor;

    private const int ReadSize = 4096;

    /// <summary>Longest record kept whole: what the worker puts in one LOG frame.</summary>
    public const int MaxRecordChars = 64 * 1024;

    /// <summary>How far into a record's first line its level name is looked for.</summary>
    private const int MaxLevelSearch = 200;

    [GeneratedRegex(@"\b(?:DEBUG|INFO|WARNING|ERROR|CRITICAL)\b", RegexOptions.CultureInvariant)]
    private static partial Regex LevelWord { get; }

    /// <summary>
    /// Masks with <paramref name="redactor"/> from now on: a reload brought new secrets. It must cover
    /// the earlier values too, since workers that hold them still run.
    /// </summary>
    public void RedactWith(SecretRedactor redactor) => Volatile.Write(ref _redactor, redactor);

    /// <summary>The app's text with the secret values masked: a traceback the bridge reported, not a line it printed.</summary>
    public string Redact(string text) => Volatile.Read(ref _redactor).Redact(text);

    /// <summary>Reads <paramref name="stream"/> to its end on a thread of its own (the zygote's pipes: .NET has no async reads of a pipe).</summary>
    public void Capture(Stream stream, string source, uint workerId, int pid, string streamName, Action<string>? onLine = null)
    {
        var thread = new Thread(() => Pump(stream, source, workerId, pid, streamName, onLine), 256 * 1024)
        {
            IsBackground = true,
            Name = $"output {source} {streamName}",
        };
        thread.Start();
    }

    /// <summary>
    /// Reads a worker's output connection to its end on the event loop: no thread waits on it, so the
    /// connections that children of a replaced worker keep open cost a socket each, nothing more.
    /// </summary>
    public async Task CaptureAsync(Socket socket, string source, uint workerId, int pid, string streamName)
    {
        using (socket)
        {
            await ReadLinesAsync(buffer => socket.ReceiveAsync(buffer, SocketFlags.None), line => Write(source, workerId, pid, streamName, line))
                .ConfigureAwait(false);
        }
    }

    public void Write(string source, uint workerId, int pid, string streamName, string line)
    {
        line = Redact(line);
        if (line.Length > OutputLines.MaxLineChars)
        {
            line = string.Concat(line.AsSpan(0, OutputLines.MaxLineChars), "...");
        }

        if (sink.IsTerminal)
        {
            var text = string.Create(CultureInfo.InvariantCulture,
                $"{DateTime.Now:HH:mm:ss.fff} [{source} {pid} {streamName}] {TerminalText.Sanitize(line)}");
            sink.WriteLine(Encoding.UTF8.GetBytes(text));
            return;
        }

        var json = BeginJson(out var buffer, streamName == "stderr" ? "warn" : "info", "app.output", source, workerId, pid, streamName);
        json.WriteString("line"u8, line);
        LineFormatter.EndJson(json, sink, buffer);
    }

    /// <summary>
    /// One record the app wrote to <paramref name="stream"/> (wsgi.errors, stderr or stdout) during a request (a
    /// LOG frame): one event, tagged with the request, however many lines it holds, so that a message
    /// and its traceback stay together.
    /// </summary>
    public void WriteRecord(uint workerId, int pid, string requestId, string stream, string text)
    {
        text = Redact(text);
        if (text.Length > MaxRecordChars)
        {
            text = string.Concat(text.AsSpan(0, MaxRecordChars), "...");
        }

        var level = RecordLevel(text, stream == "stdout" ? "info" : "warn");
        if (sink.IsTerminal)
        {
            // Every line of the record on a line of its own, the later ones indented under the first.
            var lines = string.Join("\n    ", text.Split('\n').Select(TerminalText.Sanitize));
            sink.WriteLine(Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture,
                $"{DateTime.Now:HH:mm:ss.fff} [worker {pid} {stream} {level} {requestId}] {lines}")));
            return;
        }

        var json = BeginJson(out var buffer, level, "app.log", "worker", workerId, pid, stream);
        json.WriteString("request_id"u8, requestId);
        json.WriteString("text"u8, text);
        LineFormatter.EndJson(json, sink, buffer);
    }

    /// <summary>The fields every line of the app's output has: who wrote it, and on which stream.</summary>
    private static System.Text.Json.Utf8JsonWriter BeginJson(out System.Buffers.ArrayBufferWriter<byte> buffer, string level, string @event, string source, uint workerId, int pid, string stream)
    {
        var json = LineFormatter.BeginJson(out buffer, level, @event);
        json.WriteString("source"u8, source);
        json.WriteNumber("worker"u8, workerId);
        json.WriteNumber("pid"u8, pid);
        json.WriteString("stream"u8, stream);
        return json;
    }

    /// <summary>
    /// The level of a record: the first of Python's level names in its first line (where
    /// logging's formats put it: "[time] ERROR in app: ..." is Flask's), else error for a traceback,
    /// else <paramref name="otherwise"/> (the stream's own: info for stdout, warn for the error streams).
    /// </summary>
    internal static string RecordLevel(string text, string otherwise)
    {
        var firstLine = text.AsSpan(0, Math.Min(text.Length, MaxLevelSearch));
        if (firstLine.IndexOf('\n') is var end and >= 0)
        {
            firstLine = firstLine[..end];
        }

        foreach (var match in LevelWord.EnumerateMatches(firstLine))
        {
            return firstLine.Slice(match.Index, match.Length) switch
            {
                "DEBUG" => "debug",
                "INFO" => "info",
                "WARNING" => "warn",
                _ => "error", // ERROR, CRITICAL
            };
        }

        return text.Contains("Traceback (most recent call last):", StringComparison.Ordinal) ? "error" : otherwise;
    }

    private void Pump(Stream stream, string source, uint workerId, int pid, string streamName, Action<string>? onLine)
    {
        using (stream)
        {
            // Synchronous reads on this thread: the task is complete when this returns.
            ReadLinesAsync(buffer => ValueTask.FromResult(stream.Read(buffer.Span)), line =>
            {
                Write(source, workerId, pid, streamName, line);
                onLine?.Invoke(line);
            }).GetAwaiter().GetResult();
        }
    }

    /// <summary>Reads to the end of the output, handing over each line as it completes, and the last one without a newline.</summary>
    private static async Task ReadLinesAsync(Func<Memory<byte>, ValueTask<int>> read, Action<string> onLine)
    {
        var lines = new OutputLines(onLine);
        var buffer = new byte[ReadSize];
        try
        {
            int count;
            while ((count = await read(buffer).ConfigureAwait(false)) > 0)
            {
                lines.Append(buffer.AsSpan(0, count));
            }
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
        {
            // The process died mid-line, or was killed (a reset): what it wrote is logged, the rest is gone with it.
        }

        lines.Finish();
    }
}

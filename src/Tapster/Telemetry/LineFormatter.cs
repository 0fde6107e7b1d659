using System.Buffers;
using System.Text.Json;

namespace Tapster.Telemetry;

/// <summary>A per-thread JSON writer over a reusable buffer, so formatting a log line allocates nothing.</summary>
internal static class LineFormatter
{
    [ThreadStatic]
    private static ArrayBufferWriter<byte>? t_buffer;

    [ThreadStatic]
    private static Utf8JsonWriter? t_json;

    private static readonly JsonWriterOptions JsonOptions = new() { SkipValidation = true };

    public static ArrayBufferWriter<byte> Buffer()
    {
        var buffer = t_buffer ??= new ArrayBufferWriter<byte>(1024);
        buffer.ResetWrittenCount();
        return buffer;
    }

    /// <summary>A JSON writer positioned at the start of a fresh buffer, with the common fields written.</summary>
    public static Utf8JsonWriter BeginJson(out ArrayBufferWriter<byte> buffer, string level, string @event)
    {
        buffer = Buffer();
        var json = t_json ??= new Utf8JsonWriter(buffer, JsonOptions);
        json.Reset(buffer);
        json.WriteStartObject();
        json.WriteString("time"u8, DateTimeOffset.UtcNow);
        json.WriteString("level"u8, level);
        json.WriteString("event"u8, @event);
        return json;
    }

    public static void EndJson(Utf8JsonWriter json, LogSink sink, ArrayBufferWriter<byte> buffer)
    {
        json.WriteEndObject();
        json.Flush();
        sink.WriteLine(buffer.WrittenSpan);
    }
}

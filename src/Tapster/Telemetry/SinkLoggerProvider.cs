using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace Tapster.Telemetry;

/// <summary>
/// Tapster's own events through <see cref="ILogger"/> into the <see cref="LogSink"/>: one JSON object
/// per line (the structured fields of the message as properties), or a readable line on a terminal.
/// </summary>
internal sealed class SinkLoggerProvider(LogSink sink, LogLevel minimumLevel) : ILoggerProvider
{
    public ILogger CreateLogger(string categoryName) => new SinkLogger(sink, categoryName, minimumLevel);

    public void Dispose()
    {
    }

    private sealed class SinkLogger(LogSink sink, string category, LogLevel minimumLevel) : ILogger
    {
        private static readonly ConcurrentDictionary<string, string> FieldNames = new(StringComparer.Ordinal);

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= minimumLevel && logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel))
            {
                return;
            }

            var message = formatter(state, exception);
            if (sink.IsTerminal)
            {
                var text = new StringBuilder()
                    .Append(DateTime.Now.ToString("HH:mm:ss.fff", System.Globalization.CultureInfo.InvariantCulture))
                    .Append(' ').Append(LevelName(logLevel).ToUpperInvariant().PadRight(5)).Append(' ')
                    .Append(TerminalText.Sanitize(message));
                if (exception is not null)
                {
                    text.Append('\n').Append(exception);
                }

                sink.WriteLine(Encoding.UTF8.GetBytes(text.ToString()));
                return;
            }

            var json = LineFormatter.BeginJson(out var buffer, LevelName(logLevel), eventId.Name ?? category);
            json.WriteString("category"u8, category);
            json.WriteString("message"u8, message);
            if (state is IReadOnlyList<KeyValuePair<string, object?>> fields)
            {
                foreach (var (key, value) in fields)
                {
                    // A field named like one of the line's own (Kestrel's "message") would make the JSON ambiguous.
                    if (key == "{OriginalFormat}")
                    {
                        continue;
                    }

                    var name = FieldName(key);
                    if (name is not ("time" or "level" or "event" or "category" or "message" or "exception"))
                    {
                        WriteField(json, name, value);
                    }
                }
            }

            if (exception is not null)
            {
                json.WriteString("exception"u8, exception.ToString());
            }

            LineFormatter.EndJson(json, sink, buffer);
        }

        /// <summary>
        /// snake_case, as the access and app-output lines name their fields ("WorkerId" is "worker_id"),
        /// so one query language works on every line. Names come from message templates: a fixed set, cached.
        /// </summary>
        private static string FieldName(string key) => FieldNames.GetOrAdd(key, static k => JsonNamingPolicy.SnakeCaseLower.ConvertName(k));

        private static void WriteField(System.Text.Json.Utf8JsonWriter json, string key, object? value)
        {
            switch (value)
            {
                case null:
                    json.WriteNull(key);
                    break;
                case int i:
                    json.WriteNumber(key, i);
                    break;
                case long l:
                    json.WriteNumber(key, l);
                    break;
                case uint u: // worker ids: numbers, as in the access and app-output lines
                    json.WriteNumber(key, u);
                    break;
                case double d:
                    json.WriteNumber(key, d);
                    break;
                case bool b:
                    json.WriteBoolean(key, b);
                    break;
                // ISO 8601, not the culture's "11/24/2026 09:22:09": log readers parse it.
                case DateTimeOffset at:
                    json.WriteString(key, at);
                    break;
                case DateTime at:
                    json.WriteString(key, at);
                    break;
                default:
                    json.WriteString(key, value.ToString());
                    break;
            }
        }

        private static string LevelName(LogLevel level) => level switch
        {
            LogLevel.Trace => "trace",
            LogLevel.Debug => "debug",
            LogLevel.Information => "info",
            LogLevel.Warning => "warn",
            LogLevel.Error => "error",
            _ => "fatal",
        };
    }
}

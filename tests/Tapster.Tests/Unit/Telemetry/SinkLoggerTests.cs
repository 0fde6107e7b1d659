using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Tapster.Telemetry;

namespace Tapster.Tests.Unit.Telemetry;

public sealed class SinkLoggerTests
{
    [Fact]
    public async Task Event_fields_are_snake_case_like_the_access_and_app_lines()
    {
        using var output = new MemoryStream();
        var sink = new LogSink(output, isTerminal: false);
        using (var provider = new SinkLoggerProvider(sink, LogLevel.Information))
        {
            var fields = new List<KeyValuePair<string, object?>>
            {
                new("WorkerId", 3u), new("Pid", 4242), new("HTTPVersion", "2"), new("message", "forged"), new("{OriginalFormat}", "Worker {WorkerId}"),
            };
            provider.CreateLogger("Tapster").Log(LogLevel.Information, new EventId(1, "worker.ready"), fields, null, (_, _) => "Worker 3");
        }

        await sink.DisposeAsync();

        var e = JsonDocument.Parse(Encoding.UTF8.GetString(output.ToArray())).RootElement;
        Assert.Equal((3u, 4242, "2", "Worker 3"),
            (e.GetProperty("worker_id").GetUInt32(), e.GetProperty("pid").GetInt32(), e.GetProperty("http_version").GetString(), e.GetProperty("message").GetString()));
        Assert.False(e.TryGetProperty("WorkerId", out _) || e.TryGetProperty("{OriginalFormat}", out _), e.GetRawText());
    }
}

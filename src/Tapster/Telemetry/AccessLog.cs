using System.Globalization;
using System.Text;
using Tapster.Edge;

namespace Tapster.Telemetry;

/// <summary>One line per request (but those [log] leaves out): JSON for machines, a readable line at a terminal.</summary>
internal sealed class AccessLog(LogSink sink, LogSettings settings)
{
    public void Write(in AccessEntry entry)
    {
        if (!Wants(entry.Path, entry.Status))
        {
            return;
        }

        if (sink.IsTerminal)
        {
            WriteText(entry);
            return;
        }

        var json = LineFormatter.BeginJson(out var buffer, "info", "access");
        json.WriteString("request_id"u8, entry.RequestId);
        json.WriteString("method"u8, entry.Method);
        json.WriteString("path"u8, entry.Path);
        json.WriteNumber("status"u8, entry.Status);
        json.WriteNumber("bytes"u8, entry.Bytes);
        json.WriteNumber("duration_ms"u8, Math.Round(entry.DurationMs, 3));
        json.WriteNumber("queue_ms"u8, Math.Round(entry.QueueMs, 3));
        if (entry.WorkerPid != 0)
        {
            json.WriteNumber("worker_pid"u8, entry.WorkerPid);
        }
        else
        {
            json.WriteNull("worker_pid"u8);
        }

        json.WriteString("remote"u8, entry.Remote);
        json.WriteString("protocol"u8, entry.Protocol);
        json.WriteString("host"u8, entry.Host);
        json.WriteString("user_agent"u8, entry.UserAgent);
        LineFormatter.EndJson(json, sink, buffer);
    }

    /// <summary>Whether the request at <paramref name="path"/> that ended with <paramref name="status"/> gets a line.</summary>
    internal bool Wants(string path, int status)
    {
        if (!settings.Access)
        {
            return false;
        }

        if (status >= 400)
        {
            return true; // a failure, even at a health check, is news
        }

        foreach (var skipped in settings.AccessSkip)
        {
            if (PathPrefix.Covers(path, skipped))
            {
                return false;
            }
        }

        return true;
    }

    private void WriteText(in AccessEntry entry)
    {
        var line = string.Create(CultureInfo.InvariantCulture,
            $"{DateTime.Now:HH:mm:ss.fff} {entry.Remote} \"{entry.Method} {TerminalText.Sanitize(entry.Path)}\" {entry.Status} {entry.Bytes}B {entry.DurationMs:0.0}ms queue={entry.QueueMs:0.0}ms pid={entry.WorkerPid} id={TerminalText.Sanitize(entry.RequestId)}");
        sink.WriteLine(Encoding.UTF8.GetBytes(line));
    }
}

internal readonly record struct AccessEntry(
    string RequestId, string Method, string Path, string Protocol, int Status, long Bytes,
    double DurationMs, double QueueMs, int WorkerPid, string? Remote, string? Host, string? UserAgent);

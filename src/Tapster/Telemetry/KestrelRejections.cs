using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Tapster.Telemetry;

/// <summary>
/// Kestrel refuses malformed or oversized requests (400, 408, 413, 414, 431) before Tapster's code runs,
/// and says why only in a Debug event with a stack trace. This turns each into one warning line of
/// Tapster's own, <c>request.rejected</c>, with the reason and no trace.
/// </summary>
internal sealed partial class KestrelRejections(ILoggerFactory tapster) : ILoggerProvider
{
    public const string Category = "Microsoft.AspNetCore.Server.Kestrel.BadRequests";

    private readonly ILogger _logger = tapster.CreateLogger("Tapster.Edge.Rejections");

    public ILogger CreateLogger(string categoryName) => categoryName == Category ? new Relay(_logger) : NullLogger.Instance;

    public void Dispose()
    {
    }

    [LoggerMessage(EventId = 420, EventName = "request.rejected", Level = LogLevel.Warning, Message = "Request refused at the edge on connection {Connection}: {Reason}")]
    private static partial void LogRejected(ILogger logger, string reason, string? connection);

    private sealed class Relay(ILogger target) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Debug;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var reason = exception?.Message;
            if (reason is not null && reason.Contains("aborted by the application", StringComparison.Ordinal))
            {
                // Tapster itself cut the connection (an app's response broke off or missed its
                // Content-Length); that is logged where it happens, and is not the client's doing.
                return;
            }

            string? connection = null;
            if (state is IReadOnlyList<KeyValuePair<string, object?>> fields)
            {
                foreach (var (key, value) in fields)
                {
                    reason ??= key == "message" ? value as string : null;
                    connection = key == "ConnectionId" ? value as string : connection;
                }
            }

            LogRejected(target, reason ?? formatter(state, exception), connection);
        }
    }
}

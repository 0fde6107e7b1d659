using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Tapster.Edge;

/// <summary>
/// Refuses requests with ambiguous framing (<see cref="RequestFraming"/>) before anything else answers
/// them, static files and rate limits included, and closes their connections.
/// </summary>
internal sealed partial class FramingGuard(EdgeRefusal refusal, ILogger<FramingGuard> logger)
{
    public RequestDelegate Wrap(RequestDelegate next) => context =>
        RequestFraming.Refusal(context.Request) is { } refused ? RefuseAsync(context, refused.Status, refused.Message) : next(context);

    private Task RefuseAsync(HttpContext context, int status, string message)
    {
        LogRefused(logger, context.Request.Path.Value, message.TrimEnd());
        return refusal.SendAsync(context, status, message, close: true);
    }

    [LoggerMessage(EventId = 421, EventName = "request.rejected", Level = LogLevel.Warning, Message = "Request for {Path} refused at the edge: {Reason}")]
    private static partial void LogRefused(ILogger logger, string? path, string reason);
}

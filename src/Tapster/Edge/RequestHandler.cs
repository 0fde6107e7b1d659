using System.Buffers;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using Tapster.Configuration;
using Tapster.Edge.Compression;
using Tapster.Edge.Headers;
using Tapster.Telemetry;
using Tapster.Workers;

namespace Tapster.Edge;

/// <summary>
/// Every request's path through Tapster: request id, the whole body read (413 past the limit), a slot
/// from the dispatcher (503 when the queue is full or too slow), the exchange with the worker, the
/// mapping of every failure to its status, and the access log line.
/// </summary>
internal sealed partial class RequestHandler(
    ServeSettings settings, Dispatcher dispatcher, Supervisor supervisor, HeaderPolicy headers, CompressionPolicy compression, AccessLog accessLog,
    AppOutput appOutput, GracefulStop stop, ILogger<RequestHandler> logger)
{
    /// <summary>Retry-After on 503: long enough for a queue to drain, short enough for a retry to matter.</summary>
    private const string RetryAfterSeconds = "1";

    /// <summary>How long the rest of a refused body is read before the connection closes (nginx: lingering_timeout 5s).</summary>
    private static readonly TimeSpan LingerTime = TimeSpan.FromSeconds(5);

    private readonly long _timeoutTicks = (long)(settings.Timeout.TotalSeconds * Stopwatch.Frequency);

    public async Task HandleAsync(HttpContext context)
    {
        var started = Stopwatch.GetTimestamp();
        var requestId = RequestIds.Assign(context);
        var queuedFor = 0.0;
        var workerPid = 0;
        long bytes = 0;
        var sent = new StrongBox<long>(); // what got out when the client leaves mid-response
        var linger = false;
        try
        {
            if (headers.TryAnswerPreflight(context))
            {
                return;
            }

            var inlineRoom = RequestFrameWriter.InlineBodyRoom(context, requestId, settings.ScriptName);
            if (inlineRoom < 0)
            {
                bytes = await RejectAsync(context, StatusCodes.Status431RequestHeaderFieldsTooLarge, "Request Header Fields Too Large: the request head is too large to hand to the app\n").ConfigureAwait(false);
                return;
            }

            // A body that would not fit in the frame beside this head is spooled, whatever its size.
            var read = await ReadBodyAsync(context, Math.Min(settings.SpoolThreshold, inlineRoom)).ConfigureAwait(false);
            using var body = read.Body;
            if (body is null && read.RefusedWith == StatusCodes.Status413PayloadTooLarge)
            {
                (bytes, linger) = await RefuseTooLargeAsync(context).ConfigureAwait(false);
                return;
            }

            if (body is null)
            {
                bytes = read.RefusedWith switch
                {
                    StatusCodes.Status408RequestTimeout => await RejectAsync(context, read.RefusedWith, "Request Timeout: the body came too slowly\n").ConfigureAwait(false),
                    StatusCodes.Status500InternalServerError => await RejectAsync(context, read.RefusedWith, "Internal Server Error: the request body could not be stored\n").ConfigureAwait(false),
                    StatusCodes.Status431RequestHeaderFieldsTooLarge => await RejectAsync(context, read.RefusedWith, "Request Header Fields Too Large: the chunked body's trailers are too large\n").ConfigureAwait(false),
                    _ => await RejectAsync(context, read.RefusedWith, "Bad Request: malformed request body\n").ConfigureAwait(false),
                };
                return;
            }

            var acquired = await dispatcher.AcquireAsync(context.RequestAborted).ConfigureAwait(false);
            queuedFor = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            if (acquired.Slot is not { } slot)
            {
                bytes = await RefuseAsync(context, acquired.Failure).ConfigureAwait(false);
                return;
            }

            if (context.RequestAborted.IsCancellationRequested)
            {
                // The client left while queued: the app never sees the request.
                dispatcher.Release(slot);
                context.Response.StatusCode = StatusCodes.Status499ClientClosedRequest;
                return;
            }

            workerPid = slot.Worker.Pid;
            await using var exchange = new WorkerExchange(slot, context, headers, compression, supervisor.RuntimeDirectory, settings.Limits, appOutput, requestId);
            ExchangeOutcome outcome = ExchangeOutcome.ProtocolViolation;
            var relayed = false;
            try
            {
                var frame = slot.SendBuffer(RequestFrameWriter.MaxSize(context, requestId, settings.ScriptName, body));
                var length = RequestFrameWriter.Write(frame, context, requestId, settings.ScriptName, body);
                slot.Deadline = Stopwatch.GetTimestamp() + _timeoutTicks;
                outcome = await exchange.RunAsync(frame.AsMemory(0, length), body.InlineMemory).ConfigureAwait(false);
                relayed = true;
            }
            finally
            {
                if (outcome is ExchangeOutcome.ProtocolViolation or ExchangeOutcome.WorkerDied)
                {
                    // Out of the pool before its slot is free: frames of this response may still be on
                    // their way, and a queued request given the slot would read them as its own.
                    dispatcher.Remove(slot.Worker);
                }

                dispatcher.Release(slot);
                supervisor.RequestFinished(slot.Worker);
                if (!relayed)
                {
                    supervisor.ReportBroken(slot.Worker, "a response broke off mid-way; its slot is out of step");
                }
            }

            sent.Value = exchange.BytesSent;
            bytes = await CompleteAsync(context, exchange, outcome, slot, requestId, sent).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or ConnectionResetException or IOException
            || e is BadHttpRequestException)
        {
            // Only while nothing was sent: a write that failed had already started the response.
            if (e is BadHttpRequestException bad && !context.Response.HasStarted)
            {
                context.Response.StatusCode = bad.StatusCode;
            }
            else
            {
                ClientClosed.Mark(context, stop);
            }

            bytes = sent.Value;
        }
        finally
        {
            accessLog.Write(context, requestId, bytes, started, queuedFor, workerPid);
            if (linger)
            {
                await LingerAsync(context).ConfigureAwait(false);
            }
        }
    }

    /// <summary>The whole body, or null and the status refusing it: 413 past the limit, 400 for broken chunked framing.</summary>
    private async ValueTask<(RequestBody? Body, int RefusedWith)> ReadBodyAsync(HttpContext context, int spoolThreshold)
    {
        try
        {
            var body = await RequestBody.ReadAsync(context, settings.BodySizeLimit ?? long.MaxValue, spoolThreshold, supervisor.RuntimeDirectory)
                .ConfigureAwait(false);
            return (body, body is null ? StatusCodes.Status413PayloadTooLarge : 0);
        }
        catch (BadHttpRequestException e) when (!context.RequestAborted.IsCancellationRequested)
        {
            return (null, e.StatusCode);
        }
        catch (InvalidOperationException) when (!context.RequestAborted.IsCancellationRequested)
        {
            // Kestrel's verdict on a NUL in a chunked trailer: the body is malformed, not the server.
            return (null, StatusCodes.Status400BadRequest);
        }
        catch (SpoolException e)
        {
            LogSpoolFailed(logger, e.Message);
            return (null, StatusCodes.Status500InternalServerError);
        }
        catch (IOException e) when (e is not ConnectionResetException && !context.RequestAborted.IsCancellationRequested)
        {
            // Kestrel reports a chunk size past 64 bits as a bare IOException: a bad request, not a client gone.
            return (null, StatusCodes.Status400BadRequest);
        }
    }

    /// <summary>
    /// Finishes the response for <paramref name="outcome"/>; returns the body bytes the client got.
    /// <paramref name="sent"/> counts on while a file goes out, for the log of a download cut short.
    /// </summary>
    private async Task<long> CompleteAsync(HttpContext context, WorkerExchange exchange, ExchangeOutcome outcome, WorkerSlot slot, string requestId, StrongBox<long> sent)
    {
        switch (outcome)
        {
            case ExchangeOutcome.Completed when exchange.PendingFile is { } file:
                using (file.Handle)
                {
                    return await SendFileAsync(context, file, exchange.Compressor, sent).ConfigureAwait(false);
                }

            case ExchangeOutcome.Completed:
                return await CompleteWholeAsync(context, exchange).ConfigureAwait(false);
            case ExchangeOutcome.Overlong:
                // Only the excess was wrong, and it never left: the client gets the response it was
                // promised, and an HTTP/1 connection closes after it, as after any body that broke its length.
                LogOverlong(logger, context.Request.Path.Value);
                context.Features.Get<Microsoft.AspNetCore.Connections.Features.IConnectionLifetimeNotificationFeature>()?.RequestClose();
                return await CompleteWholeAsync(context, exchange).ConfigureAwait(false);
            case ExchangeOutcome.ClientGone:
                ClientClosed.Mark(context, stop);
                return exchange.BytesSent;
            case ExchangeOutcome.LengthMismatch:
                LogLengthMismatch(logger, context.Request.Path.Value);
                context.Abort();
                return exchange.BytesSent;
            case ExchangeOutcome.AppFailedMidResponse:
                context.Abort();
                return exchange.BytesSent;
            case ExchangeOutcome.InvalidResponse:
                LogInvalidResponse(logger, context.Request.Path.Value, exchange.AppError ?? "");
                return await FailAsync(context, requestId, StatusCodes.Status500InternalServerError, "Internal Server Error\n", exchange.BytesSent).ConfigureAwait(false);
            case ExchangeOutcome.TimedOut:
                return await FailAsync(context, requestId, StatusCodes.Status504GatewayTimeout, "Gateway Timeout: the app took too long\n", exchange.BytesSent).ConfigureAwait(false);
            default:
                supervisor.ReportBroken(slot.Worker, exchange.AppError ?? "it died during a request");
                return await FailAsync(context, requestId, StatusCodes.Status502BadGateway, "Bad Gateway: the app's worker died\n", exchange.BytesSent).ConfigureAwait(false);
        }
    }

    /// <summary>A whole response: what the client has not taken yet is in the spool, the worker is free already.</summary>
    private async Task<long> CompleteWholeAsync(HttpContext context, WorkerExchange exchange)
    {
        var taken = await exchange.DrainAsync().ConfigureAwait(false);
        if (exchange.SpoolFailure is { } failure)
        {
            LogResponseSpoolFailed(logger, failure);
        }

        if (!taken || context.RequestAborted.IsCancellationRequested)
        {
            // It left while the app ran. Kestrel, like nginx in front of an upstream, takes a client
            // that half-closes after its request for one that left, and discards what is written after.
            ClientClosed.Mark(context, stop);
            return context.Response.HasStarted ? exchange.BytesSent : 0;
        }

        exchange.Compressor?.Finish();
        return exchange.BytesSent;
    }

    private static async Task<long> SendFileAsync(HttpContext context, (Microsoft.Win32.SafeHandles.SafeFileHandle Handle, long Offset, long Count) file,
        ResponseCompressor? compressor, StrongBox<long> sent)
    {
        var length = RandomAccess.GetLength(file.Handle);
        // An offset past the end (the app seeked there) is an empty body, not a negative one.
        var available = Math.Max(0, length - file.Offset);
        var remaining = file.Count < 0 ? available : Math.Min(file.Count, available);
        if (compressor is not null)
        {
            if (await FileRangeResponse.SendAsync(context, file.Handle, file.Offset, remaining, compressor).ConfigureAwait(false) == remaining)
            {
                compressor.Finish();
            }

            return compressor.BytesWritten;
        }

        if (context.Response.ContentLength is null)
        {
            context.Response.ContentLength = remaining;
        }

        if (HttpMethods.IsHead(context.Request.Method))
        {
            return 0;
        }

        return await FileRangeResponse.SendAsync(context, file.Handle, file.Offset, remaining, sent: sent).ConfigureAwait(false);
    }

    /// <summary>
    /// Answers with an error status when nothing was sent yet, else cuts the connection (the log keeps
    /// the status that went out and the <paramref name="sent"/> bytes that did). Body bytes written but
    /// not yet flushed count as sent: Kestrel has not started the response, but cannot take them back,
    /// and an error body after them broke its Content-Length (a 500 and an exception in the log).
    /// </summary>
    private Task<long> FailAsync(HttpContext context, string requestId, int status, string message, long sent)
    {
        if (context.Response.HasStarted || sent > 0)
        {
            context.Abort();
            return Task.FromResult(sent);
        }

        context.Response.Clear();
        context.Response.Headers["X-Request-ID"] = requestId;
        return RespondAsync(context, status, message);
    }

    private Task<long> RefuseAsync(HttpContext context, AcquireFailure failure)
    {
        if (failure == AcquireFailure.ClientGone)
        {
            context.Response.StatusCode = StatusCodes.Status499ClientClosedRequest;
            return Task.FromResult(0L);
        }

        context.Response.Headers.RetryAfter = RetryAfterSeconds;
        var message = failure == AcquireFailure.ShuttingDown ? "Service Unavailable: shutting down\n" : "Service Unavailable: all workers are busy\n";
        return RespondAsync(context, StatusCodes.Status503ServiceUnavailable, message);
    }

    /// <summary>
    /// Refuses a request whose framing cannot be trusted, and closes the connection: the bytes after it
    /// could be read as another request.
    /// </summary>
    private Task<long> RejectAsync(HttpContext context, int status, string message)
    {
        context.Response.Headers.Connection = "close";
        return RespondAsync(context, status, message);
    }

    /// <summary>
    /// 413 for a body declared too large, closing the connection; true when the rest of the body is
    /// still to come and should be read and dropped (<see cref="LingerAsync"/>).
    /// </summary>
    private async Task<(long Sent, bool Linger)> RefuseTooLargeAsync(HttpContext context)
    {
        context.Response.Headers.Connection = "close";
        var sent = await RespondAsync(context, StatusCodes.Status413PayloadTooLarge, "Request body too large\n").ConfigureAwait(false);
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is not { IsReadOnly: false } limit)
        {
            return (sent, false); // the body was partly read: Kestrel's own limit ends the connection
        }

        limit.MaxRequestBodySize = null;
        return (sent, true);
    }

    /// <summary>
    /// A lingering close, as nginx does: a client still sending the body it declared (a browser
    /// uploading a file) would be reset by the kernel when the connection closes on unread data, and
    /// many then drop the 413 they already received and show "connection reset". What it sends on is
    /// read and thrown away, for a few seconds at most, after the answer went out and was logged.
    /// </summary>
    private static async Task LingerAsync(HttpContext context)
    {
        using var linger = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        linger.CancelAfter(LingerTime);
        var buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            await context.Response.CompleteAsync().ConfigureAwait(false);
            while (await context.Request.Body.ReadAsync(buffer, linger.Token).ConfigureAwait(false) > 0)
            {
                // Thrown away.
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or BadHttpRequestException)
        {
            // The time is up, the client left, or it sent garbage: the connection closes either way.
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>A short plain-text answer made by Tapster itself; returns its length for the access log.</summary>
    private Task<long> RespondAsync(HttpContext context, int status, string message)
    {
        headers.Apply(context);
        return PlainReply.SendAsync(context, status, message);
    }

    [LoggerMessage(EventId = 200, EventName = "response.invalid", Level = LogLevel.Error, Message = "The app's response to {Path} was refused: {Reason}")]
    private static partial void LogInvalidResponse(ILogger logger, string? path, string reason);

    [LoggerMessage(EventId = 202, EventName = "request.spool_failed", Level = LogLevel.Error, Message = "A request body over the spool threshold could not be stored: {Reason}")]
    private static partial void LogSpoolFailed(ILogger logger, string reason);

    [LoggerMessage(EventId = 204, EventName = "response.overlong", Level = LogLevel.Warning, Message = "The app's body for {Path} was longer than its Content-Length; the excess was dropped and the connection closed after the response")]
    private static partial void LogOverlong(ILogger logger, string? path);

    [LoggerMessage(EventId = 203, EventName = "response.spool_failed", Level = LogLevel.Warning, Message = "A response its client was slow to take could not be spooled to disk ({Reason}); its worker waited for the client instead")]
    private static partial void LogResponseSpoolFailed(ILogger logger, string reason);

    [LoggerMessage(EventId = 201, EventName = "response.length_mismatch", Level = LogLevel.Error, Message = "The app's body for {Path} did not match its Content-Length; connection closed")]
    private static partial void LogLengthMismatch(ILogger logger, string? path);
}

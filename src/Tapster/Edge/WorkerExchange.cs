using System.Buffers;
using System.Collections.Frozen;
using System.Buffers.Text;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Text;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Win32.SafeHandles;
using Tapster.Edge.Compression;
using Tapster.Edge.Headers;
using Tapster.Edge.Limits;
using Tapster.Telemetry;
using Tapster.Workers;
using Tapster.Workers.Protocol;

namespace Tapster.Edge;

/// <summary>
/// Runs one request on one worker slot: sends REQUEST, then turns START, BODY, FILE and END into the
/// client's response as they arrive, flushing each chunk so streams reach the client live, and logs the
/// app's LOG records (what the request wrote to wsgi.errors or stderr) as they come. When the
/// client falls behind, the rest of the body goes through a <see cref="ResponseSpool"/> that a task of
/// its own feeds to the client, so the worker finishes at its own speed and its slot is free at END:
/// a slow or stalled reader never holds a worker. Everything that can go wrong is an
/// <see cref="ExchangeOutcome"/>, mapped to a status in one place by the caller. Disposing waits for
/// that task and frees the spool and the response's encoder.
/// </summary>
internal sealed class WorkerExchange : IAsyncDisposable
{
    /// <summary>Hop-by-hop headers (RFC 9110 7.6.1) are the server's business; PEP 3333 forbids them to apps.</summary>
    private static readonly FrozenSet<string> HopByHop = FrozenSet.Create(StringComparer.OrdinalIgnoreCase,
        ["Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization", "Proxy-Connection", "TE", "Trailer", "Trailers", "Transfer-Encoding", "Upgrade"]);

    /// <summary>
    /// Control characters other than HTAB (RFC 9110 5.5): CR, LF and NUL could smuggle a header; the
    /// rest Kestrel refuses with an exception in the middle of the response.
    /// </summary>
    private static readonly SearchValues<byte> ControlBytes = SearchValues.Create([.. Enumerable.Range(0, 32).Where(b => b != '\t').Select(b => (byte)b), (byte)0x7F]);

    private const string SetCookie = "Set-Cookie";

    /// <summary>Header names apps send on nearly every response: reused instead of allocated.</summary>
    private static readonly string[] CommonNames =
        ["Content-Type", SetCookie, "Location", "Cache-Control", "Vary", "ETag", "Last-Modified", "Expires", "Content-Disposition", "Content-Encoding", "X-Content-Type-Options", "X-Frame-Options"];

    private readonly WorkerSlot _slot;
    private readonly HttpContext _context;
    private readonly HeaderPolicy _headers;
    private readonly CompressionPolicy _compression;
    private readonly string _spoolDirectory;
    private readonly LimitSettings _limits;
    private readonly AppOutput _appOutput;
    private readonly string _requestId;
    private readonly bool _isHead;
    private long? _declaredLength;
    private long _appBytes;
    private long _sentBytes;
    private volatile bool _clientGone;
    private bool _cancelSent;
    private ResponseSpool? _spool;
    private Task _drain = Task.CompletedTask;

    /// <param name="spoolDirectory">Where a response its client is slow to take may be spooled.</param>
    /// <param name="limits">How much of a response the spool holds, and how long the client may take none of it before its connection is closed.</param>
    /// <param name="appOutput">Where what the request writes to wsgi.errors or stderr is logged, tagged with <paramref name="requestId"/>.</param>
    public WorkerExchange(WorkerSlot slot, HttpContext context, HeaderPolicy headers, CompressionPolicy compression, string spoolDirectory, LimitSettings limits,
        AppOutput appOutput, string requestId)
    {
        _slot = slot;
        _context = context;
        _headers = headers;
        _compression = compression;
        _spoolDirectory = spoolDirectory;
        _limits = limits;
        _appOutput = appOutput;
        _requestId = requestId;
        _isHead = HttpMethods.IsHead(context.Request.Method);
    }

    /// <summary>Body bytes handed to the client: compressed ones when Tapster compresses the response.</summary>
    public long BytesSent => Compressor?.BytesWritten ?? _sentBytes;

    /// <summary>Why the response spool could not use its file (the worker then waited for the client); null when it could.</summary>
    public string? SpoolFailure => _spool?.FileFailure;

    /// <summary>The encoder of a response Tapster compresses; null when the body goes out as the app wrote it.</summary>
    public ResponseCompressor? Compressor { get; private set; }

    public bool Started { get; private set; }

    /// <summary>The response is a range of a worker's file, to be sent after the slot is free again.</summary>
    public (SafeFileHandle Handle, long Offset, long Count)? PendingFile { get; private set; }

    /// <summary>Why the app's response was refused (bad status or header); null when it was fine.</summary>
    public string? AppError { get; private set; }

    /// <summary>Sends the request frame (<paramref name="inlineBody"/> completes it) and relays the response.</summary>
    public async Task<ExchangeOutcome> RunAsync(ReadOnlyMemory<byte> requestFrame, ReadOnlyMemory<byte> inlineBody)
    {
        var connection = _slot.Connection;
        try
        {
            await connection.SendAsync(requestFrame).ConfigureAwait(false);
            await connection.SendAsync(inlineBody).ConfigureAwait(false);
            while (true)
            {
                if (!await connection.ReadAsync().ConfigureAwait(false))
                {
                    return _slot.TimedOut ? ExchangeOutcome.TimedOut : ExchangeOutcome.WorkerDied;
                }

                var payload = connection.CurrentPayload;
                switch (connection.Current.Type)
                {
                    case FrameType.Start when !Started && AppError is null:
                        ApplyStart(payload.Span);
                        break;
                    case FrameType.Body when AppError is null && Started:
                        await WriteBodyAsync(payload).ConfigureAwait(false);
                        break;
                    case FrameType.Body when AppError is not null:
                        break; // the body of a refused response: a 500 goes out instead
                    case FrameType.File when AppError is not null:
                        // The head was refused (a 500 follows): the worker still waits for its answer.
                        await SendFileOpenedAsync(ok: false).ConfigureAwait(false);
                        break;
                    // Right after START only: a file after body bytes would race the spool's feeding of the client.
                    case FrameType.File when Started && PendingFile is null && _appBytes == 0:
                        await OpenFileAsync(Messages.ReadFile(payload.Span)).ConfigureAwait(false);
                        break;
                    case FrameType.End:
                        return Finish(Messages.ReadEnd(payload.Span));
                    case FrameType.Log:
                        // Anywhere before END, whatever became of the response.
                        var (text, stream) = Messages.ReadLog(connection.Current, payload.Span);
                        _appOutput.WriteRecord(_slot.Worker.Id, _slot.Worker.Pid, _requestId, stream, text);
                        break;
                    default:
                        throw new ProtocolException($"unexpected {connection.Current.Type} in a response");
                }
            }
        }
        catch (ProtocolException e)
        {
            AppError = e.Message;
            return ExchangeOutcome.ProtocolViolation;
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            return _slot.TimedOut ? ExchangeOutcome.TimedOut : ExchangeOutcome.WorkerDied;
        }
    }

    private ExchangeOutcome Finish(EndOutcome end)
    {
        if (end == EndOutcome.FailedAfterStart)
        {
            return ExchangeOutcome.AppFailedMidResponse;
        }

        if (AppError is not null)
        {
            return ExchangeOutcome.InvalidResponse;
        }

        if (_clientGone)
        {
            return ExchangeOutcome.ClientGone;
        }

        if (!Started)
        {
            throw new ProtocolException("END before START");
        }

        if (!_isHead && PendingFile is null && _declaredLength is { } declared && declared != _appBytes)
        {
            return _appBytes > declared ? ExchangeOutcome.Overlong : ExchangeOutcome.LengthMismatch;
        }

        return ExchangeOutcome.Completed;
    }

    private void ApplyStart(ReadOnlySpan<byte> payload)
    {
        var table = new StringTableReader(payload, out _);
        if (table.Count % 2 != 1 || !table.TryRead(out var status))
        {
            throw new ProtocolException("START must hold a status and name/value pairs");
        }

        if (!TryParseStatus(status, out var code))
        {
            AppError = $"invalid status line '{Encoding.Latin1.GetString(status)}'";
            return;
        }

        var response = _context.Response;
        response.StatusCode = code;
        var reason = status[4..];
        if (!Ascii.Equals(reason, ReasonPhrases.GetReasonPhrase(code)))
        {
            _context.Features.GetRequiredFeature<IHttpResponseFeature>().ReasonPhrase = Encoding.Latin1.GetString(reason);
        }

        while (table.TryRead(out var name) && table.TryRead(out var value))
        {
            if (!HttpToken.IsValid(name) || value.IndexOfAny(ControlBytes) >= 0)
            {
                AppError = $"invalid header '{Encoding.Latin1.GetString(name)}'";
                return;
            }

            if (Ascii.EqualsIgnoreCase(name, "Content-Length"u8))
            {
                if (!Utf8Parser.TryParse(value, out long length, out var used) || used != value.Length || length < 0)
                {
                    AppError = "invalid Content-Length from the app";
                    return;
                }

                if (_declaredLength is { } earlier && earlier != length)
                {
                    AppError = $"two different Content-Length headers from the app ({earlier} and {length})";
                    return;
                }

                _declaredLength = length;
                response.ContentLength = length;
                continue;
            }

            var headerName = NameOf(name);
            if (HopByHop.Contains(headerName))
            {
                AppError = $"hop-by-hop header '{headerName}' from the app (PEP 3333 forbids it)";
                return;
            }

            // NameOf hands back the CommonNames instance, so a reference check finds Set-Cookie in any case.
            response.Headers.Append(headerName, ReferenceEquals(headerName, SetCookie) ? _headers.HardenCookie(value, _context) : Encoding.Latin1.GetString(value));
        }

        _headers.Apply(_context);
        Compressor = _compression.Begin(_context, _declaredLength);
        Started = true;
    }

    private async ValueTask WriteBodyAsync(ReadOnlyMemory<byte> chunk)
    {
        if (_isHead)
        {
            return;
        }

        if (_clientGone)
        {
            // Found by the task feeding the client from the spool: the worker learns it here.
            await CancelAsync().ConfigureAwait(false);
            return;
        }

        if (_declaredLength is { } declared && _appBytes + chunk.Length > declared)
        {
            // Never more than the app promised: the extra bytes would be read as the next response.
            chunk = chunk[..(int)Math.Max(0, declared - _appBytes)];
            _appBytes = declared + 1;
            await CancelAsync().ConfigureAwait(false);
        }
        else
        {
            _appBytes += chunk.Length;
        }

        if (_spool is { } spool)
        {
            await spool.WriteAsync(chunk).ConfigureAwait(false);
            return;
        }

        Emit(chunk.Span);
        // More is here already, or this was a piece of a large chunk whose rest is on its way: the
        // chunk is flushed whole, as the app yielded it, and one flush carries as much as it can.
        if (_slot.Connection.HasBufferedFrame || _slot.Connection.InsideBody)
        {
            return;
        }

        if (_declaredLength is null)
        {
            // A stream's chunk must reach the client decodable now; a body of known length may wait in
            // the encoder for the rest of it, and compress better.
            Compressor?.Flush();
        }

        ValueTask<FlushResult> flush;
        try
        {
            flush = _context.Response.BodyWriter.FlushAsync(_context.RequestAborted);
            if (flush.IsCompleted)
            {
                if (IsClientGone(flush.Result))
                {
                    await ClientLeftAsync().ConfigureAwait(false);
                }

                return;
            }
        }
        catch (Exception e) when (IsClientGone(e))
        {
            await ClientLeftAsync().ConfigureAwait(false);
            return;
        }

        // The client is behind: the rest goes through the spool, fed to it by a task of its own. Should
        // the spool fill up (or lose its file), the worker waits for the client after all, and that is
        // not the app's time.
        _spool = new ResponseSpool(_spoolDirectory, _limits.ResponseBufferSize, _limits.ResponseSpoolMax, waiting =>
        {
            if (waiting)
            {
                _slot.PauseDeadline();
            }
            else
            {
                _slot.ResumeDeadline();
            }
        });
        _drain = FeedClientAsync(_spool, flush);
    }

    /// <summary>Waits until everything spooled has reached the client; false when the client left first.</summary>
    public async Task<bool> DrainAsync()
    {
        _spool?.Complete();
        await _drain.ConfigureAwait(false);
        return !_clientGone;
    }

    public async ValueTask DisposeAsync()
    {
        if (_spool is { } spool)
        {
            // Not fed to the end (the response failed): the connection is aborted, so the feeding stops.
            spool.Abandon();
            await _drain.ConfigureAwait(false);
            spool.Dispose();
        }

        Compressor?.Dispose();
    }

    /// <summary>
    /// Feeds the spool to the client, after the flush that found it behind; only this writes the body
    /// from then on. A client that takes nothing for the send timeout has its connection closed.
    /// </summary>
    private async Task FeedClientAsync(ResponseSpool spool, ValueTask<FlushResult> pending)
    {
        var writer = _context.Response.BodyWriter;
        using var stalled = CancellationTokenSource.CreateLinkedTokenSource(_context.RequestAborted);
        try
        {
            var flushed = await pending.AsTask().WaitAsync(_limits.SendTimeout).ConfigureAwait(false);
            while (!IsClientGone(flushed))
            {
                var piece = await spool.ReadAsync().ConfigureAwait(false);
                if (piece.IsEmpty)
                {
                    return;
                }

                Emit(piece.Span);
                if (_declaredLength is null)
                {
                    Compressor?.Flush();
                }

                // Armed only while the client is waited for, not while the worker is.
                stalled.CancelAfter(_limits.SendTimeout);
                flushed = await writer.FlushAsync(stalled.Token).ConfigureAwait(false);
                stalled.CancelAfter(Timeout.InfiniteTimeSpan);
            }
        }
        catch (TimeoutException)
        {
            stalled.Cancel();
        }
        catch (Exception e) when (IsClientGone(e))
        {
        }

        if (stalled.IsCancellationRequested && !_context.RequestAborted.IsCancellationRequested)
        {
            _context.Abort(); // it stalled: the connection goes, and the spool with it
        }

        _clientGone = true;
        spool.Abandon();
    }

    /// <summary>Hands body bytes to the client's pipe, through the encoder when Tapster compresses.</summary>
    private void Emit(ReadOnlySpan<byte> bytes)
    {
        if (Compressor is { } compressor)
        {
            compressor.Write(bytes);
        }
        else
        {
            _context.Response.BodyWriter.Write(bytes);
            _sentBytes += bytes.Length; // one writer at a time: the exchange, then the spool's feeder
        }
    }

    private static bool IsClientGone(FlushResult flushed) => flushed.IsCanceled || flushed.IsCompleted;

    private static bool IsClientGone(Exception e) => e is OperationCanceledException or IOException or ConnectionAbortedException;

    private async ValueTask ClientLeftAsync()
    {
        _clientGone = true;
        await CancelAsync().ConfigureAwait(false);
    }

    private async ValueTask CancelAsync()
    {
        if (_cancelSent)
        {
            return;
        }

        _cancelSent = true;
        var cancel = new byte[Frame.HeaderSize];
        Messages.WriteEmpty(cancel, FrameType.Cancel);
        await _slot.Connection.SendAsync(cancel).ConfigureAwait(false);
    }

    private async ValueTask OpenFileAsync(FileBody file)
    {
        try
        {
            // The worker's own descriptor: no bytes of the file cross the pipe.
            PendingFile = (_slot.Worker.TakeFile(file.Fd), file.Offset, file.Count);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            AppError = $"cannot open the app's file: {e.Message}";
        }

        await SendFileOpenedAsync(ok: PendingFile is not null).ConfigureAwait(false);
    }

    private async ValueTask SendFileOpenedAsync(bool ok)
    {
        var ack = new byte[Frame.HeaderSize + 1];
        Messages.WriteFileOpened(ack, ok);
        await _slot.Connection.SendAsync(ack).ConfigureAwait(false);
    }

    private static bool TryParseStatus(ReadOnlySpan<byte> status, out int code)
    {
        code = 0;
        if (status.Length < 4 || status[3] != (byte)' ' || !Utf8Parser.TryParse(status[..3], out code, out var used) || used != 3)
        {
            return false;
        }

        // A 1xx status is interim: WSGI has no way to follow it with the real response.
        return code is >= 200 and <= 999 && status[4..].IndexOfAny(ControlBytes) < 0;
    }

    private static string NameOf(ReadOnlySpan<byte> name)
    {
        foreach (var common in CommonNames)
        {
            if (Ascii.EqualsIgnoreCase(name, common))
            {
                return common;
            }
        }

        return Encoding.ASCII.GetString(name);
    }
}

internal enum ExchangeOutcome
{
    Completed,
    ClientGone,
    InvalidResponse,
    AppFailedMidResponse,
    /// <summary>The app's body was shorter than its Content-Length: the response is broken.</summary>
    LengthMismatch,

    /// <summary>The app's body was longer than its Content-Length: the declared bytes went out whole, the rest was dropped.</summary>
    Overlong,
    WorkerDied,
    TimedOut,
    ProtocolViolation,
}

using System.Buffers;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Tapster.Edge;

/// <summary>
/// A request body read completely before dispatch, so no worker ever waits on a slow client: in a pooled
/// buffer up to the spool threshold, in a private temporary file above it (deleted on dispose).
/// </summary>
internal sealed class RequestBody : IDisposable
{
    public static readonly RequestBody None = new(null, 0, null);

    private byte[]? _buffer;

    private RequestBody(byte[]? buffer, long length, string? spoolPath)
    {
        _buffer = buffer;
        Length = length;
        SpoolPath = spoolPath;
    }

    public long Length { get; }

    /// <summary>The file holding the body when it was too large for memory; null otherwise.</summary>
    public string? SpoolPath { get; }

    /// <summary>The body when it is held in memory; empty when spooled.</summary>
    public ReadOnlyMemory<byte> InlineMemory => _buffer.AsMemory(0, SpoolPath is null ? (int)Length : 0);

    public bool IsEmpty => Length == 0;

    /// <summary>Reads the whole body; null when it is larger than <paramref name="maxSize"/> (answer 413).</summary>
    public static async ValueTask<RequestBody?> ReadAsync(HttpContext context, long maxSize, int spoolThreshold, string spoolDirectory)
    {
        if (context.Features.Get<IHttpRequestBodyDetectionFeature>() is { CanHaveBody: false })
        {
            return None;
        }

        if (context.Request.ContentLength is { } declared && declared > maxSize)
        {
            return null;
        }

        var reader = context.Request.BodyReader;
        byte[]? buffer = null;
        long length = 0;
        FileStream? spool = null;
        string? spoolPath = null;
        try
        {
            while (true)
            {
                var result = await reader.ReadAsync(context.RequestAborted).ConfigureAwait(false);
                var data = result.Buffer;
                if (length + data.Length > maxSize)
                {
                    reader.AdvanceTo(data.End);
                    throw new BodyTooLargeException();
                }

                if (spool is null && length + data.Length > spoolThreshold)
                {
                    spoolPath = Path.Combine(spoolDirectory, "body-" + Guid.NewGuid().ToString("N"));
                    spool = CreateSpool(spoolPath);
                    if (buffer is not null)
                    {
                        await WriteSpoolAsync(spool, buffer.AsMemory(0, (int)length), context.RequestAborted).ConfigureAwait(false);
                        ArrayPool<byte>.Shared.Return(buffer);
                        buffer = null;
                    }
                }

                if (spool is not null)
                {
                    foreach (var segment in data)
                    {
                        await WriteSpoolAsync(spool, segment, context.RequestAborted).ConfigureAwait(false);
                    }
                }
                else if (!data.IsEmpty)
                {
                    buffer = Grow(buffer, (int)length, (int)(length + data.Length), spoolThreshold);
                    data.CopyTo(buffer.AsSpan((int)length));
                }

                length += data.Length;
                reader.AdvanceTo(data.End);
                if (result.IsCompleted)
                {
                    break;
                }
            }

            if (spool is not null)
            {
                await spool.DisposeAsync().ConfigureAwait(false);
                spool = null;
                return new RequestBody(null, length, spoolPath);
            }

            return length == 0 ? None : new RequestBody(buffer, length, null);
        }
        catch (BodyTooLargeException)
        {
            Cleanup(buffer, spool, spoolPath);
            return null;
        }
        catch
        {
            Cleanup(buffer, spool, spoolPath);
            throw;
        }
    }

    public void Dispose()
    {
        if (_buffer is not null)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = null;
        }

        if (SpoolPath is not null)
        {
            DeleteSpool(SpoolPath);
        }
    }

    private static byte[] Grow(byte[]? buffer, int used, int needed, int limit)
    {
        if (buffer is not null && buffer.Length >= needed)
        {
            return buffer;
        }

        var larger = ArrayPool<byte>.Shared.Rent(Math.Min(Math.Max(needed, 4096), Math.Max(limit, needed)));
        if (buffer is not null)
        {
            buffer.AsSpan(0, used).CopyTo(larger);
            ArrayPool<byte>.Shared.Return(buffer);
        }

        return larger;
    }

    private static void Cleanup(byte[]? buffer, FileStream? spool, string? spoolPath)
    {
        if (buffer is not null)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        spool?.Dispose();
        if (spoolPath is not null)
        {
            DeleteSpool(spoolPath);
        }
    }

    private static FileStream CreateSpool(string path)
    {
        try
        {
            return new FileStream(path, new FileStreamOptions
            {
                Mode = FileMode.CreateNew,
                Access = FileAccess.Write,
                UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
                BufferSize = 0,
            });
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new SpoolException($"cannot create {path}: {e.Message}", e);
        }
    }

    private static async ValueTask WriteSpoolAsync(FileStream spool, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        try
        {
            await spool.WriteAsync(data, cancellationToken).ConfigureAwait(false);
        }
        catch (IOException e)
        {
            throw new SpoolException($"cannot write {spool.Name}: {e.Message}", e);
        }
    }

    /// <summary>Gone already (its directory removed under us) is as good as deleted.</summary>
    private static void DeleteSpool(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }

    private sealed class BodyTooLargeException : Exception
    {
    }
}

/// <summary>
/// The spool file for a large body could not be created or written (a full disk, a temporary
/// directory cleaned away): the server's fault, not the client's, so it is never answered 400.
/// </summary>
internal sealed class SpoolException(string message, Exception inner) : Exception(message, inner)
{
}

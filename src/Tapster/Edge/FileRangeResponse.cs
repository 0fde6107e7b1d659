using System.Buffers;
using Microsoft.AspNetCore.Http;
using Microsoft.Win32.SafeHandles;
using Tapster.Edge.Compression;

namespace Tapster.Edge;

/// <summary>Sends a byte range of an open file as the response body: static files and <c>wsgi.file_wrapper</c>.</summary>
internal static class FileRangeResponse
{
    private const int ChunkSize = 64 * 1024;

    /// <summary>
    /// Streams <paramref name="count"/> bytes from <paramref name="offset"/>, through
    /// <paramref name="compressor"/> when given; returns the bytes read from the file.
    /// <paramref name="sent"/>, when given, counts the bytes flushed so far, for the log of a response
    /// the client cut short (this method throws then).
    /// </summary>
    public static async Task<long> SendAsync(HttpContext context, SafeFileHandle handle, long offset, long count, ResponseCompressor? compressor = null,
        System.Runtime.CompilerServices.StrongBox<long>? sent = null)
    {
        var writer = context.Response.BodyWriter;
        var position = offset;
        var remaining = count;
        // Compressing, the file's bytes go to the encoder, which writes to the pipe itself.
        var buffer = compressor is null ? null : ArrayPool<byte>.Shared.Rent(ChunkSize);
        try
        {
            while (remaining > 0)
            {
                var memory = buffer is null ? writer.GetMemory((int)Math.Min(remaining, ChunkSize)) : buffer.AsMemory();
                // Asynchronous: socket continuations run inline on the event thread, which a cold read from
                // disk must never block.
                var read = await RandomAccess.ReadAsync(handle, memory[..(int)Math.Min(memory.Length, remaining)], position, context.RequestAborted)
                    .ConfigureAwait(false);
                if (read == 0)
                {
                    // The file shrank under us: a short response must not pass for a whole one.
                    context.Abort();
                    break;
                }

                if (compressor is null)
                {
                    writer.Advance(read);
                }
                else
                {
                    compressor.Write(memory.Span[..read]);
                }

                position += read;
                remaining -= read;
                var flushed = await writer.FlushAsync(context.RequestAborted).ConfigureAwait(false);
                // A completed pipe takes no more: the client reset the connection, and Kestrel discards
                // what is written from then on without waiting, while RequestAborted fires later, from
                // the thread pool. Without this the rest of a large file was read into the void and
                // logged as sent.
                if (flushed.IsCompleted || flushed.IsCanceled || context.RequestAborted.IsCancellationRequested)
                {
                    throw new OperationCanceledException("the client stopped taking the response", context.RequestAborted);
                }

                if (sent is not null)
                {
                    sent.Value += read;
                }
            }
        }
        finally
        {
            if (buffer is not null)
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }

        return position - offset;
    }
}

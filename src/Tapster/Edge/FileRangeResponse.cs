using Microsoft.AspNetCore.Http;
using Microsoft.Win32.SafeHandles;

namespace Tapster.Edge;

/// <summary>Sends a byte range of an open file as the response body: static files and <c>wsgi.file_wrapper</c>.</summary>
internal static class FileRangeResponse
{
    private const int ChunkSize = 64 * 1024;

    /// <summary>Streams <paramref name="count"/> bytes from <paramref name="offset"/>; returns the bytes sent.</summary>
    public static async Task<long> SendAsync(HttpContext context, SafeFileHandle handle, long offset, long count)
    {
        var writer = context.Response.BodyWriter;
        var position = offset;
        var remaining = count;
        while (remaining > 0)
        {
            var memory = writer.GetMemory((int)Math.Min(remaining, ChunkSize));
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

            writer.Advance(read);
            position += read;
            remaining -= read;
            await writer.FlushAsync(context.RequestAborted).ConfigureAwait(false);
        }

        return position - offset;
    }
}

using System.Net.Sockets;

namespace Tapster.Workers.Protocol;

/// <summary>
/// One Unix-socket connection to a Python process, read frame by frame into one reusable buffer.
/// A received payload stays valid until the next read. Single reader, single writer at a time.
/// </summary>
internal sealed class FrameConnection : IDisposable
{
    // Most frames are a few hundred bytes; the buffer grows for the rare large one (up to MaxPayload).
    private const int InitialBufferSize = 16 * 1024;

    private readonly Socket _receiveSocket;
    private readonly Socket _sendSocket;
    private byte[] _buffer;
    private int _start;
    private int _end;

    public FrameConnection(Socket socket)
        : this(socket, socket, new byte[InitialBufferSize])
    {
    }

    private FrameConnection(Socket receive, Socket send, byte[] buffer)
    {
        _receiveSocket = receive;
        _sendSocket = send;
        _buffer = buffer;
    }

    /// <summary>The socket frames are read from (and, for a single connection, sent on).</summary>
    public Socket Socket => _receiveSocket;

    /// <summary>
    /// One channel made of two handshaken one-way connections: frames are sent on
    /// <paramref name="sendTo"/> and read from <paramref name="receiveFrom"/> (a worker slot, see
    /// docs/protocol.md). Null when either already holds bytes past its handshake: the peer broke the protocol.
    /// </summary>
    public static FrameConnection? TryPair(FrameConnection sendTo, FrameConnection receiveFrom) =>
        !sendTo.HasUnreadBytes && !receiveFrom.HasUnreadBytes
            ? new FrameConnection(receiveFrom._receiveSocket, sendTo._sendSocket, receiveFrom._buffer)
            : null;

    /// <summary>Bytes received past the last frame read: on a connection that was only handshaken, the peer broke the protocol.</summary>
    public bool HasUnreadBytes => _end != _start;

    /// <summary>The frame last returned by <see cref="ReadAsync"/>.</summary>
    public FrameHeader Current { get; private set; }

    public ReadOnlyMemory<byte> CurrentPayload { get; private set; }

    /// <summary>Whether a whole frame is already buffered, so the next read will not wait on the socket.</summary>
    public bool HasBufferedFrame
    {
        get
        {
            var available = _end - _start;
            if (available < Frame.HeaderSize)
            {
                return false;
            }

            var length = System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(_buffer.AsSpan(_start));
            return length <= Frame.MaxPayload && available - Frame.HeaderSize >= length;
        }
    }

    /// <summary>Reads the next frame; false on a clean end of stream between frames.</summary>
    public async ValueTask<bool> ReadAsync(CancellationToken cancellationToken = default)
    {
        if (!await FillAsync(Frame.HeaderSize, cancellationToken).ConfigureAwait(false))
        {
            if (_end != _start)
            {
                throw new ProtocolException("connection ended inside a frame header");
            }

            return false;
        }

        var header = Frame.ReadHeader(_buffer.AsSpan(_start, Frame.HeaderSize));
        if (!await FillAsync(Frame.HeaderSize + header.PayloadLength, cancellationToken).ConfigureAwait(false))
        {
            throw new ProtocolException("connection ended inside a frame payload");
        }

        Current = header;
        CurrentPayload = _buffer.AsMemory(_start + Frame.HeaderSize, header.PayloadLength);
        _start += Frame.HeaderSize + header.PayloadLength;
        return true;
    }

    public async ValueTask SendAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        while (!data.IsEmpty)
        {
            var sent = await _sendSocket.SendAsync(data, SocketFlags.None, cancellationToken).ConfigureAwait(false);
            data = data[sent..];
        }
    }

    public void Dispose()
    {
        _receiveSocket.Dispose();
        _sendSocket.Dispose();
    }

    private async ValueTask<bool> FillAsync(int needed, CancellationToken cancellationToken)
    {
        if (_end - _start >= needed)
        {
            return true;
        }

        MakeRoom(needed);
        while (_end - _start < needed)
        {
            int received;
            try
            {
                received = await _receiveSocket.ReceiveAsync(_buffer.AsMemory(_end), SocketFlags.None, cancellationToken)
                    .ConfigureAwait(false);
            }
            catch (SocketException)
            {
                // A reset from a killed worker reads the same as its end of stream.
                received = 0;
            }

            if (received == 0)
            {
                return false;
            }

            _end += received;
        }

        return true;
    }

    private void MakeRoom(int needed)
    {
        var available = _end - _start;
        if (_start > 0 && _buffer.Length - _start < needed)
        {
            _buffer.AsSpan(_start, available).CopyTo(_buffer);
            _start = 0;
            _end = available;
        }

        if (_buffer.Length < needed)
        {
            // Grows only for a frame whose length was already checked against MaxPayload.
            var larger = new byte[Math.Max(needed, _buffer.Length * 2)];
            _buffer.AsSpan(_start, available).CopyTo(larger);
            _buffer = larger;
            _start = 0;
            _end = available;
        }
    }
}

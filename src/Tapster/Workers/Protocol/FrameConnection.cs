using System.Net.Sockets;

namespace Tapster.Workers.Protocol;

/// <summary>
/// One Unix-socket connection to a Python process, read frame by frame into one reusable buffer.
/// A received payload stays valid until the next read. Single reader, single writer at a time.
/// </summary>
internal sealed class FrameConnection : IDisposable
{
    /// <summary>
    /// Each connection reads into a buffer of its own, 16 KiB (most frames are a few hundred bytes), or
    /// once a large response body came through, <see cref="BodyBufferSize"/>, and no more: a BODY frame
    /// larger than the buffer is handed out in pieces as it arrives (BODY frames of their own, which is
    /// what its bytes are), so a worker thread's connection never holds a whole 2 MiB chunk. The rare
    /// other frame that is larger (a START with huge headers) gets a buffer of its own, dropped once read.
    /// </summary>
    internal const int InitialBufferSize = 16 * 1024;

    /// <summary>Large enough that a piece costs little next to what it carries (3% below reading 2 MiB chunks whole).</summary>
    internal const int BodyBufferSize = 256 * 1024;

    private readonly Socket _receiveSocket;
    private readonly Socket _sendSocket;
    private byte[] _own;
    private byte[] _buffer;
    private int _start;
    private int _end;

    /// <summary>Bytes of the BODY frame being handed out in pieces that have not been read yet.</summary>
    private int _bodyLeft;

    public FrameConnection(Socket socket)
        : this(socket, socket, new byte[InitialBufferSize])
    {
    }

    private FrameConnection(Socket receive, Socket send, byte[] own)
    {
        _receiveSocket = receive;
        _sendSocket = send;
        _own = own;
        _buffer = own;
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
            ? new FrameConnection(receiveFrom._receiveSocket, sendTo._sendSocket, receiveFrom._own)
            : null;

    /// <summary>Bytes received past the last frame read: on a connection that was only handshaken, the peer broke the protocol.</summary>
    public bool HasUnreadBytes => _end != _start;

    /// <summary>The frame last returned by <see cref="ReadAsync"/> (a piece of a large BODY is a BODY of its own).</summary>
    public FrameHeader Current { get; private set; }

    public ReadOnlyMemory<byte> CurrentPayload { get; private set; }

    /// <summary>Whether the next read can return without waiting on the socket.</summary>
    public bool HasBufferedFrame
    {
        get
        {
            var available = _end - _start;
            if (_bodyLeft > 0)
            {
                return available > 0;
            }

            if (available < Frame.HeaderSize)
            {
                return false;
            }

            var length = System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(_buffer.AsSpan(_start));
            return length <= Frame.MaxPayload && available - Frame.HeaderSize >= length;
        }
    }

    /// <summary>Whether the last read was a piece of a BODY frame whose rest is still to come.</summary>
    public bool InsideBody => _bodyLeft > 0;

    /// <summary>The size of the buffer frames are read into now.</summary>
    internal int CurrentBufferSize => _buffer.Length;

    /// <summary>Reads the next frame; false on a clean end of stream between frames.</summary>
    public async ValueTask<bool> ReadAsync(CancellationToken cancellationToken = default)
    {
        // The last payload is no longer valid: a buffer made for one large frame is dropped.
        if (_start == _end && _buffer != _own)
        {
            CurrentPayload = default;
            _buffer = _own;
            _start = _end = 0;
        }

        if (_bodyLeft > 0)
        {
            return await ReadBodyPieceAsync(cancellationToken).ConfigureAwait(false);
        }

        if (!await FillAsync(Frame.HeaderSize, cancellationToken).ConfigureAwait(false))
        {
            if (_end != _start)
            {
                throw new ProtocolException("connection ended inside a frame header");
            }

            return false;
        }

        var header = Frame.ReadHeader(_buffer.AsSpan(_start, Frame.HeaderSize));
        if (header.Type == FrameType.Body && Frame.HeaderSize + header.PayloadLength > _buffer.Length)
        {
            _start += Frame.HeaderSize;
            _bodyLeft = header.PayloadLength;
            if (_buffer == _own && _own.Length < BodyBufferSize)
            {
                var larger = new byte[BodyBufferSize];
                _own.AsSpan(_start, _end - _start).CopyTo(larger);
                _end -= _start;
                _start = 0;
                _buffer = _own = larger;
            }

            return await ReadBodyPieceAsync(cancellationToken).ConfigureAwait(false);
        }

        if (!await FillAsync(Frame.HeaderSize + header.PayloadLength, cancellationToken).ConfigureAwait(false))
        {
            throw new ProtocolException("connection ended inside a frame payload");
        }

        Current = header;
        CurrentPayload = _buffer.AsMemory(_start + Frame.HeaderSize, header.PayloadLength);
        _start += Frame.HeaderSize + header.PayloadLength;
        return true;
    }

    /// <summary>The next piece of a large BODY frame: whatever of it has arrived, at least one byte.</summary>
    private async ValueTask<bool> ReadBodyPieceAsync(CancellationToken cancellationToken)
    {
        if (!await FillAsync(1, cancellationToken).ConfigureAwait(false))
        {
            throw new ProtocolException("connection ended inside a frame payload");
        }

        var length = Math.Min(_end - _start, _bodyLeft);
        Current = new FrameHeader(FrameType.Body, 0, length);
        CurrentPayload = _buffer.AsMemory(_start, length);
        _start += length;
        _bodyLeft -= length;
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

        if (_start == _end)
        {
            _start = _end = 0; // the whole buffer for what comes next
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
            // Only for a frame other than BODY whose length was already checked against MaxPayload.
            var larger = new byte[needed];
            _buffer.AsSpan(_start, available).CopyTo(larger);
            _buffer = larger;
            _start = 0;
            _end = available;
        }
    }
}

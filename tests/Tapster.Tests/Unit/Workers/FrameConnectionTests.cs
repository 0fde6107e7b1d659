using System.Net.Sockets;
using Tapster.Workers.Protocol;

namespace Tapster.Tests.Unit.Workers;

public sealed class FrameConnectionTests : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    private readonly string _directory = Directory.CreateTempSubdirectory("tpfc").FullName;
    private readonly List<Socket> _sockets = [];
    private int _listeners;

    [Fact]
    public async Task APairedSlot_SendsOnItsRequestConnectionAndReadsFromItsResponseConnection()
    {
        var (requestsHere, requestsThere) = ConnectedPair();
        var (responsesHere, responsesThere) = ConnectedPair();
        using var channel = FrameConnection.TryPair(new FrameConnection(requestsHere), new FrameConnection(responsesHere));
        Assert.NotNull(channel);

        await channel.SendAsync(EmptyFrame(FrameType.Cancel));
        Assert.Equal(EmptyFrame(FrameType.Cancel), await ReceiveAsync(requestsThere, Frame.HeaderSize));

        await responsesThere.SendAsync(EmptyFrame(FrameType.Ready));
        using var cts = new CancellationTokenSource(Timeout);
        Assert.True(await channel.ReadAsync(cts.Token));
        Assert.Equal(FrameType.Ready, channel.Current.Type);
        Assert.Equal(0, responsesThere.Available);
        Assert.Equal(0, requestsThere.Available);
    }

    [Fact]
    public async Task APairedSlot_ClosesBothConnectionsWhenDisposed()
    {
        var (requestsHere, requestsThere) = ConnectedPair();
        var (responsesHere, responsesThere) = ConnectedPair();
        var channel = FrameConnection.TryPair(new FrameConnection(requestsHere), new FrameConnection(responsesHere));

        channel!.Dispose();

        Assert.Empty(await ReceiveAsync(requestsThere, 1));
        Assert.Empty(await ReceiveAsync(responsesThere, 1));
    }

    [Fact]
    public async Task Pairing_IsRefusedWhenAConnectionHoldsAFramePastItsHandshake()
    {
        var (requestsHere, _) = ConnectedPair();
        var (responsesHere, responsesThere) = ConnectedPair();
        var responses = new FrameConnection(responsesHere);
        // The handshake frame and an early response in one write: reading the first buffers the second.
        await responsesThere.SendAsync(EmptyFrame(FrameType.Ready).Concat(EmptyFrame(FrameType.End)).ToArray());
        using var cts = new CancellationTokenSource(Timeout);
        Assert.True(await responses.ReadAsync(cts.Token));
        Assert.True(responses.HasBufferedFrame);

        Assert.Null(FrameConnection.TryPair(new FrameConnection(requestsHere), responses));
    }

    [Fact]
    public async Task A_large_body_frame_is_handed_out_in_pieces_through_the_connections_own_buffer()
    {
        var (here, there) = ConnectedPair();
        using var connection = new FrameConnection(here);
        var body = new byte[1024 * 1024];
        new Random(7).NextBytes(body);
        using var cts = new CancellationTokenSource(Timeout);
        var sending = there.SendAsync(WholeFrame(FrameType.Body, body).Concat(EmptyFrame(FrameType.End)).ToArray()); // more than the socket holds

        var received = new List<byte>();
        while (received.Count < body.Length)
        {
            Assert.True(await connection.ReadAsync(cts.Token));
            Assert.Equal(FrameType.Body, connection.Current.Type);
            Assert.Equal(connection.Current.PayloadLength, connection.CurrentPayload.Length);
            Assert.Equal(FrameConnection.BodyBufferSize, connection.CurrentBufferSize);
            received.AddRange(connection.CurrentPayload.ToArray());
        }

        Assert.True(received.SequenceEqual(body));
        Assert.True(await connection.ReadAsync(cts.Token));
        Assert.Equal(FrameType.End, connection.Current.Type);
        await sending.WaitAsync(Timeout);
    }

    [Fact]
    public async Task Another_frame_larger_than_the_buffer_gets_one_of_its_own_that_is_dropped_after_it()
    {
        var (here, there) = ConnectedPair();
        using var connection = new FrameConnection(here);
        var headers = new byte[FrameConnection.InitialBufferSize * 2];
        new Random(8).NextBytes(headers);
        using var cts = new CancellationTokenSource(Timeout);
        var sending = there.SendAsync(WholeFrame(FrameType.Start, headers));

        Assert.True(await connection.ReadAsync(cts.Token));
        Assert.True(connection.CurrentPayload.Span.SequenceEqual(headers));
        await sending.WaitAsync(Timeout);
        await there.SendAsync(EmptyFrame(FrameType.End));
        Assert.True(await connection.ReadAsync(cts.Token));
        Assert.Equal(FrameType.End, connection.Current.Type);
        Assert.Equal(FrameConnection.InitialBufferSize, connection.CurrentBufferSize);
    }

    private static byte[] WholeFrame(FrameType type, byte[] payload)
    {
        var frame = new byte[Frame.HeaderSize + payload.Length];
        Frame.WriteHeader(frame, type, payload.Length);
        payload.CopyTo(frame, Frame.HeaderSize);
        return frame;
    }

    [Fact]
    public async Task Random_byte_streams_are_read_as_whole_frames_or_refused_with_a_protocol_exception()
    {
        // What a worker sends is the app's to choose: frames with any header, cut off anywhere.
        var random = new Random(20261125);
        for (var round = 0; round < 200; round++)
        {
            var (here, there) = ConnectedPair();
            var connection = new FrameConnection(here);
            var stream = RandomFrames(random);
            var sending = Task.Run(async () =>
            {
                try
                {
                    await there.SendAsync(stream);
                    there.Shutdown(SocketShutdown.Send);
                }
                catch (SocketException)
                {
                    // The reader refused the stream before its end and closed its side.
                }
            });
            using var cts = new CancellationTokenSource(Timeout);
            try
            {
                while (await connection.ReadAsync(cts.Token))
                {
                    Assert.Equal(connection.Current.PayloadLength, connection.CurrentPayload.Length);
                }
            }
            catch (ProtocolException)
            {
            }

            connection.Dispose();
            await sending.WaitAsync(Timeout);
        }
    }

    /// <summary>Frames whose headers are mostly right, with payloads that are mostly whole, in random bytes.</summary>
    private static byte[] RandomFrames(Random random)
    {
        var types = Enum.GetValues<FrameType>();
        var stream = new List<byte>();
        for (var frames = random.Next(1, 6); frames > 0; frames--)
        {
            var header = new byte[Frame.HeaderSize];
            var length = random.Next(10) == 0 ? random.Next(Frame.MaxPayload - 8, Frame.MaxPayload + 8) : random.Next(0, 300);
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(header, (uint)length);
            header[4] = random.Next(8) == 0 ? (byte)random.Next(256) : (byte)types[random.Next(types.Length)];
            header[5] = (byte)random.Next(3);
            header[6] = random.Next(16) == 0 ? (byte)1 : (byte)0;
            var payload = new byte[random.Next(6) == 0 ? random.Next(0, Math.Min(length + 1, 400)) : Math.Min(length, 4 * 1024 * 1024)];
            random.NextBytes(payload);
            stream.AddRange(random.Next(12) == 0 ? header[..random.Next(Frame.HeaderSize)] : header);
            stream.AddRange(payload);
        }

        return [.. stream];
    }

    public void Dispose()
    {
        foreach (var socket in _sockets)
        {
            socket.Dispose();
        }

        Directory.Delete(_directory, recursive: true);
    }

    private static byte[] EmptyFrame(FrameType type)
    {
        var frame = new byte[Frame.HeaderSize];
        Messages.WriteEmpty(frame, type);
        return frame;
    }

    private static async Task<byte[]> ReceiveAsync(Socket socket, int count)
    {
        using var cts = new CancellationTokenSource(Timeout);
        var buffer = new byte[count];
        var received = 0;
        while (received < count)
        {
            var n = await socket.ReceiveAsync(buffer.AsMemory(received), SocketFlags.None, cts.Token);
            if (n == 0)
            {
                break;
            }

            received += n;
        }

        return buffer[..received];
    }

    /// <summary>Two connected ends of a Unix stream socket, as the worker listener produces them.</summary>
    private (Socket Here, Socket There) ConnectedPair()
    {
        var endpoint = new UnixDomainSocketEndPoint(Path.Combine(_directory, $"s{_listeners++}"));
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(endpoint);
        listener.Listen(1);
        var there = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        there.Connect(endpoint);
        var here = listener.Accept();
        _sockets.Add(here);
        _sockets.Add(there);
        return (here, there);
    }
}

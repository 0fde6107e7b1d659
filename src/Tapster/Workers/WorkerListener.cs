using System.Net.Sockets;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Tapster.Workers.Protocol;

namespace Tapster.Workers;

/// <summary>
/// The Unix socket every Python process connects to. A connection is admitted only after a valid HELLO
/// (magic, version, token) from a peer whose kernel-reported pid and uid match what it claims; then it
/// is handed to the supervisor. Nothing a client sends can reach this socket.
/// </summary>
internal sealed partial class WorkerListener : IDisposable
{
    private static readonly TimeSpan HelloTimeout = TimeSpan.FromSeconds(10);

    private readonly Socket _socket;
    private readonly byte[] _token;
    private readonly Func<Hello, FrameConnection, bool> _admit;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();

    public WorkerListener(string path, byte[] token, Func<Hello, FrameConnection, bool> admit, ILogger logger)
    {
        Path = path;
        _token = token;
        _admit = admit;
        _logger = logger;
        _socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        _socket.Bind(new UnixDomainSocketEndPoint(path));
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        _socket.Listen(512);
        _ = AcceptLoopAsync();
    }

    public string Path { get; }

    public void Dispose()
    {
        _stopping.Cancel();
        _socket.Dispose();
        _stopping.Dispose();
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            Socket peer;
            try
            {
                peer = await _socket.AcceptAsync(_stopping.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }

            _ = HandshakeAsync(peer);
        }
    }

    private async Task HandshakeAsync(Socket peer)
    {
        var connection = new FrameConnection(peer);
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
            timeout.CancelAfter(HelloTimeout);
            if (!await connection.ReadAsync(timeout.Token).ConfigureAwait(false) || connection.Current.Type != FrameType.Hello)
            {
                throw new ProtocolException("the first frame was not HELLO");
            }

            var hello = Hello.Parse(connection.CurrentPayload.Span);
            if (!CryptographicOperations.FixedTimeEquals(hello.Token, _token))
            {
                throw new ProtocolException("HELLO carried the wrong token");
            }

            var (pid, uid) = PeerCredentials.Of(peer);
            if (pid != hello.Pid || uid != PeerCredentials.CurrentUid)
            {
                throw new ProtocolException($"HELLO claims pid {hello.Pid} but the socket belongs to pid {pid} uid {uid}");
            }

            if (!_admit(hello, connection))
            {
                connection.Dispose();
            }
        }
        catch (Exception e) when (e is ProtocolException or OperationCanceledException or SocketException or ObjectDisposedException)
        {
            LogRejected(_logger, e.Message);
            connection.Dispose();
        }
    }

    [LoggerMessage(EventId = 10, EventName = "worker.rejected", Level = LogLevel.Warning, Message = "Refused a connection on the worker socket: {Reason}")]
    private static partial void LogRejected(ILogger logger, string reason);
}

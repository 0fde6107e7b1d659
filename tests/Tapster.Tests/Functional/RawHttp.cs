using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;

namespace Tapster.Tests.Functional;

/// <summary>A raw TCP connection to the server, for malformed HTTP, keep-alive and timing checks.</summary>
public sealed partial class RawHttp : IDisposable
{
    readonly TcpClient client;
    readonly NetworkStream stream;
    readonly MemoryStream received = new();

    RawHttp(TcpClient client)
    {
        this.client = client;
        stream = client.GetStream();
    }

    /// <param name="receiveBuffer">SO_RCVBUF, set before the connection so that the window the server sees is that small.</param>
    public static async Task<RawHttp> ConnectAsync(int port, int? receiveBuffer = null)
    {
        var c = new TcpClient { NoDelay = true };
        if (receiveBuffer is { } size)
        {
            c.ReceiveBufferSize = size;
        }

        await c.ConnectAsync("127.0.0.1", port);
        return new RawHttp(c);
    }

    public Socket Socket => client.Client;

    /// <summary>Everything received so far, as latin-1 text.</summary>
    public string Text => Encoding.Latin1.GetString(received.ToArray());

    public byte[] Bytes => received.ToArray();

    /// <summary>True once the server closed (or reset) the connection.</summary>
    public bool Closed { get; private set; }

    public async Task SendAsync(string text) => await SendAsync(Encoding.Latin1.GetBytes(text));

    public async Task SendAsync(byte[] data)
    {
        await stream.WriteAsync(data);
        await stream.FlushAsync();
    }

    public static string Get(string path, string extraHeaders = "") =>
        $"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{extraHeaders}\r\n";

    /// <summary>
    /// Starts downloading <paramref name="path"/> through a small receive window, reads past 100 KB of
    /// it and resets the connection, as a closed browser tab does. False if 100 KB never came.
    /// </summary>
    public static async Task<bool> AbandonDownloadAsync(int port, string path)
    {
        using var raw = await ConnectAsync(port, receiveBuffer: 64 * 1024);
        await raw.SendAsync(Get(path));
        var started = await raw.ReadUntilAsync(t => t.Length > 100_000, Http.Short);
        raw.Socket.LingerState = new LingerOption(true, 0);
        return started;
    }

    /// <summary>Reads until the received text satisfies the condition, the connection closes, or the timeout.</summary>
    public async Task<bool> ReadUntilAsync(Func<string, bool> condition, TimeSpan timeout)
    {
        var sw = Stopwatch.StartNew();
        var buffer = new byte[65536];
        while (!condition(Text))
        {
            if (Closed) return false;
            var left = timeout - sw.Elapsed;
            if (left <= TimeSpan.Zero) return false;
            using var cts = new CancellationTokenSource(left);
            int n;
            try
            {
                n = await stream.ReadAsync(buffer, cts.Token);
            }
            catch (OperationCanceledException) { return false; }
            catch (Exception e) when (e is IOException or SocketException) { Closed = true; return false; }
            if (n == 0) { Closed = true; return false; }
            received.Write(buffer, 0, n);
        }
        return true;
    }

    /// <summary>Reads until the server closes the connection; false if it is still open at the timeout.</summary>
    public async Task<bool> ReadUntilClosedAsync(TimeSpan timeout)
    {
        await ReadUntilAsync(_ => false, timeout);
        return Closed;
    }

    /// <summary>Number of HTTP status lines received so far (anywhere: a response may follow a body directly).</summary>
    public int StatusLineCount => StatusLine().Count(Text);

    [GeneratedRegex(@"HTTP/1\.[01] [1-5][0-9][0-9] ")]
    private static partial Regex StatusLine();

    public void Dispose()
    {
        stream.Dispose();
        client.Dispose();
        received.Dispose();
    }
}

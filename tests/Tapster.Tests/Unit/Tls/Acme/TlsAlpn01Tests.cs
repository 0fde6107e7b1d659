using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Tapster.Tls.Acme;

namespace Tapster.Tests.Unit.Tls.Acme;

public sealed class TlsAlpn01Tests
{
    [Fact]
    public void CreateChallengeCertificate_CarriesTheDigestInTheCriticalAcmeIdentifierExtension()
    {
        using var certificate = TlsAlpn01Responder.CreateChallengeCertificate("shop.test", "token.thumbprint");

        var extension = certificate.Extensions["1.3.6.1.5.5.7.1.31"]!;
        Assert.True(extension.Critical);
        Assert.Equal([0x04, 0x20, .. SHA256.HashData(Encoding.ASCII.GetBytes("token.thumbprint"))], extension.RawData);
        Assert.Equal(["shop.test"], certificate.Extensions.OfType<X509SubjectAlternativeNameExtension>().Single().EnumerateDnsNames());
        Assert.True(certificate.HasPrivateKey);
    }

    [Fact]
    public async Task TryRead_FindsTheAlpnProtocolsOfARealClientHello()
    {
        var hello = await CaptureClientHelloAsync("shop.test", [new SslApplicationProtocol("acme-tls/1"), SslApplicationProtocol.Http11]);

        Assert.True(ClientHelloAlpn.TryRead(hello, out var protocols));
        Assert.Equal(["acme-tls/1", "http/1.1"], protocols);
        Assert.False(ClientHelloAlpn.TryRead(hello.AsSpan(0, hello.Length / 2), out _)); // needs the rest of the record
    }

    [Theory]
    [InlineData("GET / HTTP/1.1\r\n")]
    [InlineData("\u0016\u0003\u0001\u0000\u0004\u0002\u0000\u0000\u0000")] // a handshake record that is no ClientHello
    public void TryRead_DecidesAtOnceThatOtherBytesOfferNothing(string start)
    {
        Assert.True(ClientHelloAlpn.TryRead(Encoding.Latin1.GetBytes(start), out var protocols));
        Assert.Empty(protocols);
    }

    /// <summary>The first TLS record .NET's own client sends, read off a socket.</summary>
    static async Task<byte[]> CaptureClientHelloAsync(string host, List<SslApplicationProtocol> protocols)
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, ((IPEndPoint)listener.LocalEndpoint).Port);
        using var server = await listener.AcceptTcpClientAsync();
        await using var ssl = new SslStream(client.GetStream());
        var handshake = ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = host, ApplicationProtocols = protocols });

        var stream = server.GetStream();
        var header = new byte[5];
        await stream.ReadExactlyAsync(header).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        var record = new byte[5 + ((header[3] << 8) | header[4])];
        header.CopyTo(record, 0);
        await stream.ReadExactlyAsync(record.AsMemory(5)).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        server.Close();
        await Assert.ThrowsAnyAsync<Exception>(() => handshake);
        return record;
    }
}

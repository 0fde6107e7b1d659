using System.Net;

namespace Tapster.Edge.Proxy;

/// <summary>
/// The proxies whose word about the client is believed: networks, matched the same way for IPv4 peers
/// seen as IPv4-mapped IPv6, and, with "unix", whatever connects to a unix:PATH listener (a proxy on
/// this machine; the socket file's mode decides who can).
/// </summary>
internal sealed class TrustedProxies(IReadOnlyList<IPNetwork> networks, bool unixSockets)
{
    /// <summary>The word that stands for clients of the Unix socket listeners.</summary>
    public const string UnixSocketsWord = "unix";

    public static TrustedProxies None { get; } = new([], unixSockets: false);

    public IReadOnlyList<IPNetwork> Networks => networks;

    public bool UnixSockets => unixSockets;

    public bool IsEmpty => networks.Count == 0 && !unixSockets;

    /// <summary>The peer of a connection: its address, or null on a Unix socket, which has none.</summary>
    public bool TrustsPeer(IPAddress? peer) => peer is null ? unixSockets : Contains(peer);

    /// <summary>An address a forwarding header names; one it does not know (null) is never trusted.</summary>
    public bool Contains(IPAddress? address)
    {
        if (address is null)
        {
            return false;
        }

        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        foreach (var network in networks)
        {
            if (network.Contains(address))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The entries as written: networks, then "unix".</summary>
    public IReadOnlyList<string> Describe() => [.. networks.Select(n => n.ToString()), .. unixSockets ? [UnixSocketsWord] : Array.Empty<string>()];

    /// <summary>Reads every entry (see <see cref="TryParse"/>, and "unix"); the first bad one is the error.</summary>
    public static TrustedProxies? ParseAll(IEnumerable<string> texts, out string? error)
    {
        error = null;
        var all = new List<IPNetwork>();
        var unix = false;
        foreach (var text in texts)
        {
            if (text.Trim() == UnixSocketsWord)
            {
                unix = true;
            }
            else if (TryParse(text, out var parsed, out error))
            {
                all.AddRange(parsed);
            }
            else
            {
                return null;
            }
        }

        return new TrustedProxies(all, unix);
    }

    /// <summary>
    /// Reads "10.0.0.0/8", "2001:db8::/32", a single address, or "*" (every address). A network with host
    /// bits set (10.0.0.1/8) is refused rather than guessed at.
    /// </summary>
    public static bool TryParse(string text, out IReadOnlyList<IPNetwork> networks, out string? error)
    {
        networks = [];
        error = null;
        text = text.Trim();
        if (text == "*")
        {
            networks = [IPNetwork.Parse("0.0.0.0/0"), IPNetwork.Parse("::/0")];
            return true;
        }

        if (!text.Contains('/', StringComparison.Ordinal))
        {
            if (!IPAddress.TryParse(text, out var address))
            {
                error = $"'{text}' is not an IP address or CIDR network (10.0.0.0/8, 192.168.1.7, 2001:db8::/32)";
                return false;
            }

            networks = [new IPNetwork(address, address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128)];
            return true;
        }

        // .NET quietly masks the host bits (10.0.0.1/8 becomes 10.0.0.0/8); a typo there must not widen the trust.
        if (IPNetwork.TryParse(text, out var network) && IPAddress.Parse(text.AsSpan(0, text.IndexOf('/', StringComparison.Ordinal))).Equals(network.BaseAddress))
        {
            networks = [network];
            return true;
        }

        var slash = text.IndexOf('/', StringComparison.Ordinal);
        var bitsSet = IPAddress.TryParse(text.AsSpan(0, slash), out var start)
            && int.TryParse(text.AsSpan(slash + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var length)
            && length <= (start.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128);
        error = bitsSet
            ? $"'{text}' has bits set past its prefix length: write the network's first address (10.0.0.1/8 is 10.0.0.0/8)"
            : $"'{text}' is not an IP address or CIDR network (10.0.0.0/8, 192.168.1.7, 2001:db8::/32)";
        return false;
    }
}

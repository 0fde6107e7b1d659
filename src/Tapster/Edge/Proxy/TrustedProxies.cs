using System.Net;

namespace Tapster.Edge.Proxy;

/// <summary>The trusted proxy networks, matched the same way for IPv4 peers seen as IPv4-mapped IPv6.</summary>
internal sealed class TrustedProxies(IReadOnlyList<IPNetwork> networks)
{
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

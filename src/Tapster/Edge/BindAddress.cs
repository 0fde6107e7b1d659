using System.Globalization;
using System.Net;

namespace Tapster.Edge;

/// <summary>A --bind value: <c>HOST:PORT</c>, <c>[IPv6]:PORT</c>, <c>:PORT</c> (all interfaces) or <c>localhost:PORT</c>.</summary>
internal static class BindAddress
{
    public static bool TryParse(string text, out IPEndPoint? endPoint, out string? error)
    {
        endPoint = null;
        error = null;
        var colon = text.LastIndexOf(':');
        if (colon < 0 || !int.TryParse(text.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port is < 0 or > 65535)
        {
            error = $"'{text}' is not HOST:PORT (for example 127.0.0.1:8000 or [::]:443)";
            return false;
        }

        var host = text[..colon].Trim('[', ']');
        IPAddress? address = host switch
        {
            "" or "0.0.0.0" => IPAddress.Any,
            "localhost" => IPAddress.Loopback,
            _ => IPAddress.TryParse(host, out var parsed) ? parsed : null,
        };
        if (address is null)
        {
            error = $"'{host}' in '{text}' is not an IP address (use 0.0.0.0, ::, 127.0.0.1 or localhost)";
            return false;
        }

        endPoint = new IPEndPoint(address, port);
        return true;
    }
}

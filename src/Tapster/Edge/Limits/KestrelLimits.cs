using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Tapster.Edge.Limits;

/// <summary>The <c>[limits]</c> Kestrel enforces itself while it parses and sends, before Tapster's code runs.</summary>
internal static class KestrelLimits
{
    /// <param name="maxBodySize">Null: no limit.</param>
    public static void Apply(KestrelServerLimits kestrel, LimitSettings limits, long? maxBodySize)
    {
        kestrel.MaxRequestBodySize = maxBodySize;
        kestrel.MaxRequestLineSize = (int)limits.MaxRequestLine;
        kestrel.MaxRequestHeadersTotalSize = (int)limits.MaxHeaderSize;
        kestrel.MaxRequestHeaderCount = limits.MaxHeaders;
        kestrel.RequestHeadersTimeout = limits.HeaderTimeout;
        kestrel.KeepAliveTimeout = limits.KeepAliveTimeout;
        var rate = limits.MinDataRate == 0 ? null : new MinDataRate(limits.MinDataRate, limits.DataRateGrace);
        kestrel.MinRequestBodyDataRate = rate;
        kestrel.MinResponseDataRate = rate;
        kestrel.MaxConcurrentConnections = limits.MaxConnections == 0 ? null : limits.MaxConnections;
    }
}

using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;

namespace Tapster.Tls.Acme;

/// <summary>The ACME events in the log (ids 50-59).</summary>
internal sealed partial class AcmeLog(ILogger logger) : IRenewalEvents
{
    public void Loaded(string domain, X509Certificate2 certificate)
    {
        var notAfter = certificate.NotAfter.ToUniversalTime();
        LogLoaded(logger, domain, notAfter);
    }

    public void LoadFailed(string domain, string error) => LogLoadFailed(logger, domain, error);

    public void Scheduled(string domain, DateTimeOffset at) => LogScheduled(logger, domain, at);

    public void Issued(string domain, X509Certificate2 certificate)
    {
        var notAfter = certificate.NotAfter.ToUniversalTime();
        LogIssued(logger, domain, certificate.Issuer, notAfter, certificate.Thumbprint);
    }

    public void Failed(string domain, Exception error, DateTimeOffset retryAt, X509Certificate2? kept)
    {
        if (kept is not null)
        {
            var notAfter = kept.NotAfter.ToUniversalTime();
            LogRenewalFailed(logger, domain, error.Message, retryAt, notAfter);
        }
        else
        {
            LogFailed(logger, domain, error.Message, retryAt);
        }
    }

    [LoggerMessage(EventId = 50, EventName = "acme.loaded", Level = LogLevel.Information, Message = "ACME certificate for '{Domain}' loaded from the state directory, valid until {NotAfter:u}")]
    private static partial void LogLoaded(ILogger logger, string domain, DateTime notAfter);

    [LoggerMessage(EventId = 51, EventName = "acme.load_failed", Level = LogLevel.Warning, Message = "Stored ACME certificate for '{Domain}' is not usable, getting a new one: {Error}")]
    private static partial void LogLoadFailed(ILogger logger, string domain, string error);

    [LoggerMessage(EventId = 52, EventName = "acme.scheduled", Level = LogLevel.Information, Message = "ACME certificate for '{Domain}' renews at {At:u}")]
    private static partial void LogScheduled(ILogger logger, string domain, DateTimeOffset at);

    [LoggerMessage(EventId = 53, EventName = "acme.issued", Level = LogLevel.Information, Message = "ACME certificate for '{Domain}' issued by '{Issuer}', valid until {NotAfter:u}, now served ({Thumbprint})")]
    private static partial void LogIssued(ILogger logger, string domain, string issuer, DateTime notAfter, string thumbprint);

    [LoggerMessage(EventId = 54, EventName = "acme.failed", Level = LogLevel.Error, Message = "No certificate for '{Domain}' yet, HTTPS for it fails until one is issued: {Error}; retrying at {RetryAt:u}")]
    private static partial void LogFailed(ILogger logger, string domain, string error, DateTimeOffset retryAt);

    [LoggerMessage(EventId = 55, EventName = "acme.renewal_failed", Level = LogLevel.Warning, Message = "Renewing the certificate for '{Domain}' failed, the current one stays in use (valid until {NotAfter:u}): {Error}; retrying at {RetryAt:u}")]
    private static partial void LogRenewalFailed(ILogger logger, string domain, string error, DateTimeOffset retryAt, DateTime notAfter);
}

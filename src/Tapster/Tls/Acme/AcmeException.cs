namespace Tapster.Tls.Acme;

/// <summary>
/// The ACME server refused a request or an order went wrong; the message is the CA's problem document
/// (RFC 8555 6.7) in words, fit for the log.
/// </summary>
internal sealed class AcmeException : Exception
{
    public AcmeException(string message, string? problemType = null)
        : base(message)
    {
        ProblemType = problemType;
    }

    public AcmeException()
    {
    }

    public AcmeException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary><c>urn:ietf:params:acme:error:badNonce</c> and the like; null when there was no problem document.</summary>
    public string? ProblemType { get; }
}

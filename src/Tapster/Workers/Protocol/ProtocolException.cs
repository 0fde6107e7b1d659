namespace Tapster.Workers.Protocol;

/// <summary>The peer broke the worker protocol: the connection (and its worker) cannot be trusted any more.</summary>
internal sealed class ProtocolException : Exception
{
    public ProtocolException(string message)
        : base(message)
    {
    }

    public ProtocolException()
    {
    }

    public ProtocolException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

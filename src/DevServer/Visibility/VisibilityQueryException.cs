namespace AgentOrchestrator.DevServer.Visibility;

/// <summary>
/// A visibility query that cannot be parsed; the message is meant for the caller (the server maps it to
/// INVALID_ARGUMENT) and names the offending token and its 1-based character position.
/// </summary>
public sealed class VisibilityQueryException : Exception
{
    public VisibilityQueryException()
        : base("invalid query")
    {
    }

    public VisibilityQueryException(string message)
        : base(message)
    {
    }

    public VisibilityQueryException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

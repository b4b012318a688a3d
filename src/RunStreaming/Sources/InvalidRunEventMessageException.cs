namespace AgentOrchestrator.RunStreaming.Sources;

/// <summary>A stream message that can never be processed; it is parked in the error queue.</summary>
internal sealed class InvalidRunEventMessageException : Exception
{
    public InvalidRunEventMessageException()
    {
    }

    public InvalidRunEventMessageException(string message)
        : base(message)
    {
    }

    public InvalidRunEventMessageException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

namespace AgentOrchestrator.RunStreaming.Delivery;

/// <summary>
/// The server ended a subscription's stream for a reason the client acts on (resume with its cursor, or retry
/// shortly). <see cref="Exception.Message"/> starts with "[<see cref="Code"/>] ", the form hub errors take.
/// </summary>
public abstract class RunStreamEndedException : Exception
{
    protected RunStreamEndedException()
    {
    }

    protected RunStreamEndedException(string message)
        : base(message)
    {
    }

    protected RunStreamEndedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>The typed error code: "slow_consumer" or "unavailable".</summary>
    public abstract string Code { get; }
}

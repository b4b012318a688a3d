namespace AgentOrchestrator.RunStreaming.Delivery;

/// <summary>A subscription could not start because the run's events cannot be read now: retry shortly (code "unavailable").</summary>
public sealed class RunStreamUnavailableException : RunStreamEndedException
{
    public RunStreamUnavailableException()
    {
    }

    public RunStreamUnavailableException(string message)
        : base("[unavailable] " + message)
    {
    }

    public RunStreamUnavailableException(string message, Exception innerException)
        : base("[unavailable] " + message, innerException)
    {
    }

    public override string Code => "unavailable";
}

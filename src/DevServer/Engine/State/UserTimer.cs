namespace AgentOrchestrator.DevServer.Engine.State;

internal sealed class UserTimer
{
    public required string TimerId { get; init; }

    public required long StartedEventId { get; init; }

    public required DateTime FireTime { get; init; }

    public ITimer? Timer { get; set; }
}

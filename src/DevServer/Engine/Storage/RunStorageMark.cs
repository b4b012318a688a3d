namespace AgentOrchestrator.DevServer.Engine.Storage;

/// <summary>What a durable store last recorded of a run, so a capture writes only what changed.</summary>
internal sealed class RunStorageMark
{
    public int EventCount { get; set; }

    public byte[]? State { get; set; }

    /// <summary>The run was closed when last recorded: a closed run changes no more.</summary>
    public bool Closed { get; set; }
}

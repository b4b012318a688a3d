namespace AgentOrchestrator.Relay;

/// <summary>Configuration section "Relay".</summary>
public sealed class RelayOptions
{
    public const string SectionName = "Relay";

    /// <summary>Base URL of an OpenAI-compatible model (the simulator's <c>/v1/</c>).</summary>
    public Uri? Model { get; set; }

    public string ModelName { get; set; } = "sim-1";
}

using System.ComponentModel.DataAnnotations;

namespace AgentOrchestrator.Gateway.Threads;

/// <summary>How chat threads are started (configuration section "Gateway:Threads").</summary>
public sealed class ThreadOptions
{
    public const string SectionName = "Gateway:Threads";

    /// <summary>Turns a thread's workflow takes before it continues as new (with the conversation in its input).</summary>
    [Range(1, 10_000)]
    public int TurnsPerRun { get; set; } = 50;

    /// <summary>The most messages a thread keeps and sends to the model; the oldest are dropped first.</summary>
    [Range(2, 100_000)]
    public int MaxMessages { get; set; } = 200;

    /// <summary>Model of new threads; null uses the worker's default.</summary>
    public string? Model { get; set; }
}

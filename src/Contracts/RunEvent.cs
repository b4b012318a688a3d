using System.Text.Json;
using System.Text.Json.Serialization;

namespace AgentOrchestrator.Contracts;

/// <summary>
/// One event of a run, as published on the bus and delivered to subscribers. Token events carry a delta
/// (one or more tokens, batched by the worker); concatenating a step attempt's deltas in index order
/// gives the step's text.
/// </summary>
public sealed record RunEvent
{
    /// <summary>Stable id, usable for de-duplication: see <see cref="RunEventIds"/>.</summary>
    public required string Id { get; init; }

    public required string RunId { get; init; }

    public required string TenantId { get; init; }

    /// <summary>One of <see cref="RunEventTypes"/>.</summary>
    public required string Type { get; init; }

    /// <summary>Step id within the flow (e.g. "writer"); null for run-level events.</summary>
    public string? Step { get; init; }

    public string? Agent { get; init; }

    /// <summary>Temporal activity attempt of the step (1-based); 0 for run-level events.</summary>
    public int Attempt { get; init; }

    /// <summary>Position within the step attempt (token deltas 0, 1, 2, ...), or within the run for run-level events.</summary>
    public long Index { get; init; }

    public string? Text { get; init; }

    /// <summary>
    /// Structured payload of events that carry more than text (tool.call, tool.result, input.requested, step.retrying);
    /// its shape per type is in docs/protocol.md. Null for the others.
    /// </summary>
    public JsonElement? Data { get; init; }

    /// <summary>When the event was produced (publisher's clock).</summary>
    public required DateTimeOffset Ts { get; init; }

    /// <summary>For token deltas: when the model emitted the first token of the delta (Unix µs), if the model said so.</summary>
    public long? ModelEmittedAtUs { get; init; }

    /// <summary>
    /// Inside a gateway: the <see cref="TokenPath"/> points this token delta passed so far, for its hop metrics. Never
    /// serialized (no bytes on the bus or to subscribers); null everywhere else.
    /// </summary>
    [JsonIgnore]
    public IReadOnlyList<PathStamp>? Trace { get; init; }
}

/// <summary>
/// What a timed subscription (docs/protocol.md "Timed subscriptions") delivers: the event and, for a live token delta,
/// the <see cref="TokenPath"/> points it passed up to the gateway handing it to the connection (empty otherwise).
/// </summary>
public sealed record TimedRunEvent(RunEvent Event, IReadOnlyList<PathStamp> Hops);

/// <summary>How event ids are built: the same event always gets the same id, whoever publishes it again.</summary>
public static class RunEventIds
{
    public static string ForStep(string runId, string step, int attempt, string type, long index) =>
        $"{runId}/{step}/{attempt}/{type}/{index}";

    public static string ForRun(string runId, string type) => $"{runId}/{type}";
}

/// <summary>Bus message: events of one run in publish order (a worker batches token deltas into one message).</summary>
public sealed record RunEventsPublished
{
    public required string RunId { get; init; }

    public required string TenantId { get; init; }

    public required IReadOnlyList<RunEvent> Events { get; init; }

    /// <summary>
    /// On a token delta's message: the <see cref="TokenPath"/> points the publisher stamped (worker.received,
    /// publish.started, in path order), read by the gateway's hop metrics; null on other messages.
    /// </summary>
    public IReadOnlyList<PathStamp>? Stamps { get; init; }
}

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

    /// <summary>The run this event belongs to.</summary>
    public required string RunId { get; init; }

    /// <summary>The run's tenant.</summary>
    public required string TenantId { get; init; }

    /// <summary>One of <see cref="RunEventTypes"/>.</summary>
    public required string Type { get; init; }

    /// <summary>Step id within the flow (e.g. "writer"); null for run-level events.</summary>
    public string? Step { get; init; }

    /// <summary>The agent of the step; null for run-level events.</summary>
    public string? Agent { get; init; }

    /// <summary>Temporal activity attempt of the step (1-based); 0 for run-level events.</summary>
    public int Attempt { get; init; }

    /// <summary>Position within the step attempt (token deltas 0, 1, 2, ...), or within the run for run-level events.</summary>
    public long Index { get; init; }

    /// <summary>Text of the event: a token delta, a step's final text, a run's result or error.</summary>
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

    /// <summary>
    /// For token deltas: where <see cref="Text"/> starts in the step attempt's text (UTF-16 code units). A client keeps
    /// each attempt's text and appends only what lies beyond it, so a delta seen twice, or a merged range of deltas
    /// that overlaps what it holds, never repeats text (docs/protocol.md).
    /// </summary>
    public long? Offset { get; init; }
}

/// <summary>
/// What a timed subscription (docs/protocol.md "Timed subscriptions") delivers: the event and, for a live token delta,
/// the <see cref="TokenPath"/> points it passed up to the gateway handing it to the connection (empty otherwise).
/// </summary>
public sealed record TimedRunEvent(RunEvent Event, IReadOnlyList<PathStamp> Hops);

/// <summary>How event ids are built: the same event always gets the same id, whoever publishes it again.</summary>
public static class RunEventIds
{
    /// <summary>The id of a step event.</summary>
    public static string ForStep(string runId, string step, int attempt, string type, long index) =>
        $"{runId}/{step}/{attempt}/{type}/{index}";

    /// <summary>The id of a run-level event (one of each type per run).</summary>
    public static string ForRun(string runId, string type) => $"{runId}/{type}";

    /// <summary>
    /// The id of one event carrying token deltas <paramref name="first"/>..<paramref name="last"/> of a step attempt
    /// merged (a backlogged subscriber's queue, or a finished attempt replayed compacted); a single delta keeps its own id.
    /// </summary>
    public static string ForTokenRange(string runId, string step, int attempt, long first, long last) =>
        first == last ? ForStep(runId, step, attempt, RunEventTypes.Token, last) : $"{runId}/{step}/{attempt}/{RunEventTypes.Token}/{first}-{last}";

    /// <summary>
    /// Reads a token id (<see cref="ForStep"/>, first = last) or a range id (<see cref="ForTokenRange"/>) of run
    /// <paramref name="runId"/>; false for any other id.
    /// </summary>
    public static bool TryParseToken(string id, string runId, out string step, out int attempt, out long first, out long last)
    {
        ArgumentNullException.ThrowIfNull(id);
        ArgumentNullException.ThrowIfNull(runId);
        step = string.Empty;
        attempt = 0;
        first = last = -1;
        const string TokenSegment = "/" + RunEventTypes.Token + "/";
        var tokenAt = id.LastIndexOf(TokenSegment, StringComparison.Ordinal);
        if (!id.StartsWith(runId + "/", StringComparison.Ordinal) || tokenAt <= runId.Length)
        {
            return false;
        }
        var indexes = id.AsSpan(tokenAt + TokenSegment.Length);
        var dash = indexes.IndexOf('-');
        var parsed = dash < 0
            ? long.TryParse(indexes, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out first)
            : long.TryParse(indexes[..dash], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out first)
              && long.TryParse(indexes[(dash + 1)..], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out last);
        if (!parsed)
        {
            return false;
        }
        if (dash < 0)
        {
            last = first;
        }
        var head = id.AsSpan(runId.Length + 1, tokenAt - runId.Length - 1); // "{step}/{attempt}"
        var slash = head.LastIndexOf('/');
        if (slash <= 0 || !int.TryParse(head[(slash + 1)..], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out attempt)
            || last < first)
        {
            return false;
        }
        step = head[..slash].ToString();
        return true;
    }
}

/// <summary>Bus message: events of one run in publish order (a worker batches token deltas into one message).</summary>
public sealed record RunEventsPublished
{
    /// <summary>The run the events belong to.</summary>
    public required string RunId { get; init; }

    /// <summary>The run's tenant.</summary>
    public required string TenantId { get; init; }

    /// <summary>The events, in publish order.</summary>
    public required IReadOnlyList<RunEvent> Events { get; init; }

    /// <summary>
    /// On a token delta's message: the <see cref="TokenPath"/> points the publisher stamped (worker.received,
    /// publish.started, in path order), read by the gateway's hop metrics; null on other messages.
    /// </summary>
    public IReadOnlyList<PathStamp>? Stamps { get; init; }
}

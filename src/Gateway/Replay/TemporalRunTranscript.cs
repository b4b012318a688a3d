using System.Text.Json;
using System.Text.Json.Serialization;
using AgentOrchestrator.Contracts;
using AgentOrchestrator.Gateway.Auth;
using AgentOrchestrator.RunStreaming.Replay;
using Temporalio.Api.Enums.V1;
using Temporalio.Api.History.V1;
using Temporalio.Client;
using Temporalio.Converters;
using Temporalio.Exceptions;

namespace AgentOrchestrator.Gateway.Replay;

/// <summary>
/// Rebuilds a run's transcript from its Temporal workflow history: each completed streaming step ("agent.run-step"
/// with <see cref="AgentStepInput"/>/<see cref="AgentStepResult"/>, or an agent loop's "agent.model-turn" with
/// <see cref="ModelTurnInput"/>/<see cref="ModelTurnResult"/>; input in ActivityTaskScheduled, result in
/// ActivityTaskCompleted) as step.started, one token delta holding the whole text and step.completed, under the
/// attempt that completed; each completed tool call ("agent.tool-call") as tool.call and tool.result; the events the
/// workflow asked to publish ("run.publish-event": run-level, or step events such as input.requested; a local activity
/// in runs since RunEventPublishing, read from its marker's result, a regular activity before); and, when the
/// run closed without publishing its end (terminated, timed out), a terminal event from the close itself. Ids end
/// in "/durable": they never match a live event, so a client resuming with one gets the whole transcript again
/// rather than a misplaced continuation.
/// </summary>
internal sealed class TemporalRunTranscript(ITemporalClient temporal) : IDurableRunTranscript
{
    public const string DurableIdSuffix = "/durable";

    private const string LocalActivityMarker = "core_local_activity";

    public async Task<IReadOnlyList<RunEvent>?> ReadAsync(string tenantId, string runId, CancellationToken cancellationToken)
    {
        if (!TenantIds.IsValid(runId))
        {
            return null;
        }
        var handle = temporal.GetWorkflowHandle(RunWorkflowIds.For(tenantId, runId));
        IReadOnlyCollection<HistoryEvent> history;
        try
        {
            history = (await handle.FetchHistoryAsync(new WorkflowHistoryEventFetchOptions { Rpc = new RpcOptions { CancellationToken = cancellationToken } })).Events;
        }
        catch (RpcException e) when (e.Code == RpcException.StatusCode.NotFound)
        {
            return null;
        }
        var converter = temporal.Options.DataConverter.PayloadConverter;
        var scheduled = new Dictionary<long, HistoryEvent>();
        var attempts = new Dictionary<long, int>();
        var events = new List<RunEvent>();
        var terminal = false;
        foreach (var historyEvent in history)
        {
            switch (historyEvent.EventType)
            {
                case EventType.ActivityTaskScheduled:
                    scheduled[historyEvent.EventId] = historyEvent;
                    break;
                case EventType.ActivityTaskStarted:
                    attempts[historyEvent.ActivityTaskStartedEventAttributes.ScheduledEventId] = historyEvent.ActivityTaskStartedEventAttributes.Attempt;
                    break;
                case EventType.ActivityTaskCompleted:
                    var completed = historyEvent.ActivityTaskCompletedEventAttributes;
                    if (scheduled.TryGetValue(completed.ScheduledEventId, out var schedule))
                    {
                        var ts = historyEvent.EventTime.ToDateTimeOffset();
                        var attempt = Math.Max(1, attempts.GetValueOrDefault(completed.ScheduledEventId));
                        terminal |= AddCompletedActivity(events, converter, tenantId, runId, schedule.ActivityTaskScheduledEventAttributes, attempt,
                            completed, ts);
                    }
                    break;
                case EventType.MarkerRecorded when PublishedByLocalActivity(historyEvent.MarkerRecordedEventAttributes, converter) is { } published:
                    terminal |= AddLifecycle(events, tenantId, runId, published, historyEvent.EventTime.ToDateTimeOffset());
                    break;
                case EventType.WorkflowExecutionCompleted:
                case EventType.WorkflowExecutionFailed:
                case EventType.WorkflowExecutionCanceled:
                case EventType.WorkflowExecutionTerminated:
                case EventType.WorkflowExecutionTimedOut:
                    if (!terminal)
                    {
                        events.Add(CloseEvent(tenantId, runId, historyEvent));
                        terminal = true;
                    }
                    break;
                default:
                    break;
            }
        }
        return events;
    }

    /// <summary>Adds a completed step's or published lifecycle event's events; true when that was the run's terminal event.</summary>
    private static bool AddCompletedActivity(List<RunEvent> events, IPayloadConverter converter, string tenantId, string runId,
        ActivityTaskScheduledEventAttributes schedule, int attempt, ActivityTaskCompletedEventAttributes completed, DateTimeOffset ts)
    {
        switch (schedule.ActivityType.Name)
        {
            case AgentActivityNames.RunAgentStep when schedule.Input?.Payloads_.Count > 0 && completed.Result?.Payloads_.Count > 0:
                var input = converter.ToValue<AgentStepInput>(schedule.Input.Payloads_[0]);
                var result = converter.ToValue<AgentStepResult>(completed.Result.Payloads_[0]);
                AddStreamedStep(events, new StepOf(tenantId, runId, input.Step, input.Agent, attempt, ts), result.Text);
                return false;
            case AgentActivityNames.ModelTurn when schedule.Input?.Payloads_.Count > 0 && completed.Result?.Payloads_.Count > 0:
                var turn = converter.ToValue<ModelTurnInput>(schedule.Input.Payloads_[0]);
                var answer = converter.ToValue<ModelTurnResult>(completed.Result.Payloads_[0]);
                AddStreamedStep(events, new StepOf(tenantId, runId, turn.Step, turn.Agent, attempt, ts), answer.Text);
                return false;
            case AgentActivityNames.ToolCall when schedule.Input?.Payloads_.Count > 0 && completed.Result?.Payloads_.Count > 0:
                var call = converter.ToValue<ToolCallInput>(schedule.Input.Payloads_[0]);
                var output = converter.ToValue<ToolCallResult>(completed.Result.Payloads_[0]);
                var tool = new StepOf(tenantId, runId, call.Step, call.Agent, attempt, ts);
                events.Add(tool.Event(RunEventTypes.ToolCall, 0, null, JsonSerializer.SerializeToElement(
                    new ToolCallData(call.Call.CallId, call.Call.Tool, ToolArguments(call.Call.Arguments)), DurableTranscriptJsonContext.Default.ToolCallData)));
                events.Add(tool.Event(RunEventTypes.ToolResult, 0, output.Result, JsonSerializer.SerializeToElement(
                    new ToolResultData(output.CallId, output.Tool, output.Result, Error: null), DurableTranscriptJsonContext.Default.ToolResultData)));
                return false;
            case AgentActivityNames.PublishRunEvent when schedule.Input?.Payloads_.Count > 0:
                return AddLifecycle(events, tenantId, runId, converter.ToValue<RunLifecycleEvent>(schedule.Input.Payloads_[0]), ts);
            default:
                return false;
        }
    }

    /// <summary>Adds an event the workflow published itself; true when that was the run's terminal event.</summary>
    private static bool AddLifecycle(List<RunEvent> events, string tenantId, string runId, RunLifecycleEvent lifecycle, DateTimeOffset ts)
    {
        if (lifecycle.Step is not null)
        {
            // A step event the workflow publishes itself (input.requested): one attempt, one event of its type.
            events.Add(new StepOf(tenantId, runId, lifecycle.Step, Agent: null, Attempt: 1, ts).Event(lifecycle.Type, 0, lifecycle.Text, lifecycle.Data));
            return false;
        }
        events.Add(RunLevel(tenantId, runId, lifecycle.Type, lifecycle.Text, ts));
        return RunEventTerminals.IsTerminal(lifecycle.Type);
    }

    /// <summary>
    /// The event a completed "run.publish-event" local activity published (its result), or null for any other marker.
    /// The SDK's marker: name "core_local_activity", details "data" (JSON with the activity type) and "result".
    /// </summary>
    private static RunLifecycleEvent? PublishedByLocalActivity(MarkerRecordedEventAttributes marker, IPayloadConverter converter)
    {
        if (marker.MarkerName != LocalActivityMarker
            || !marker.Details.TryGetValue("data", out var data) || data.Payloads_.Count == 0
            || !marker.Details.TryGetValue("result", out var result) || result.Payloads_.Count == 0)
        {
            return null;
        }
        using var document = JsonDocument.Parse(data.Payloads_[0].Data.Memory);
        return document.RootElement.TryGetProperty("activity_type", out var type) && type.ValueKind == JsonValueKind.String
            && type.GetString() == AgentActivityNames.PublishRunEvent
                ? converter.ToValue<RunLifecycleEvent>(result.Payloads_[0])
                : null;
    }

    // A finished streaming step as its live stream would end up: started, the whole text as one delta (none when the
    // turn only asked for tools), completed with the number of deltas as its index.
    private static void AddStreamedStep(List<RunEvent> events, StepOf step, string text)
    {
        events.Add(step.Event(RunEventTypes.StepStarted, 0, null));
        var deltas = string.IsNullOrEmpty(text) ? 0 : 1;
        if (deltas == 1)
        {
            events.Add(step.Event(RunEventTypes.Token, 0, text) with { Offset = 0 });
        }
        events.Add(step.Event(RunEventTypes.StepCompleted, deltas, text));
    }

    // Tool arguments are the model's JSON; anything else is kept as a JSON string rather than dropped.
    private static JsonElement ToolArguments(string arguments)
    {
        try
        {
            using var document = JsonDocument.Parse(arguments);
            return document.RootElement.Clone();
        }
        catch (JsonException)
        {
            return JsonSerializer.SerializeToElement(arguments, DurableTranscriptJsonContext.Default.String);
        }
    }

    private readonly record struct StepOf(string TenantId, string RunId, string Step, string? Agent, int Attempt, DateTimeOffset Ts)
    {
        public RunEvent Event(string type, long index, string? text, JsonElement? data = null) => new()
        {
            Id = RunEventIds.ForStep(RunId, Step, Attempt, type, index) + DurableIdSuffix,
            RunId = RunId,
            TenantId = TenantId,
            Type = type,
            Step = Step,
            Agent = Agent,
            Attempt = Attempt,
            Index = index,
            Text = text,
            Data = data,
            Ts = Ts,
        };
    }

    private static RunEvent CloseEvent(string tenantId, string runId, HistoryEvent close)
    {
        var ts = close.EventTime.ToDateTimeOffset();
        return close.EventType switch
        {
            // The flow's own run.completed (with its text) is normally there already; the result's type is the flow's business.
            EventType.WorkflowExecutionCompleted => RunLevel(tenantId, runId, RunEventTypes.RunCompleted, null, ts),
            EventType.WorkflowExecutionCanceled => RunLevel(tenantId, runId, RunEventTypes.RunCanceled, null, ts),
            EventType.WorkflowExecutionFailed => RunLevel(tenantId, runId, RunEventTypes.RunFailed,
                close.WorkflowExecutionFailedEventAttributes.Failure?.Message, ts),
            EventType.WorkflowExecutionTerminated => RunLevel(tenantId, runId, RunEventTypes.RunFailed,
                "terminated: " + close.WorkflowExecutionTerminatedEventAttributes.Reason, ts),
            _ => RunLevel(tenantId, runId, RunEventTypes.RunFailed, "timed out", ts),
        };
    }

    private static RunEvent RunLevel(string tenantId, string runId, string type, string? text, DateTimeOffset ts) => new()
    {
        Id = RunEventIds.ForRun(runId, type) + DurableIdSuffix,
        RunId = runId,
        TenantId = tenantId,
        Type = type,
        Index = type == RunEventTypes.RunStarted ? 0 : 1,
        Text = text,
        Ts = ts,
    };
}

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(ToolCallData))]
[JsonSerializable(typeof(ToolResultData))]
[JsonSerializable(typeof(string))]
internal sealed partial class DurableTranscriptJsonContext : JsonSerializerContext;

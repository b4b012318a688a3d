using AgentOrchestrator.Contracts;
using AgentOrchestrator.Gateway.Auth;
using Temporalio.Api.Enums.V1;
using Temporalio.Api.History.V1;
using Temporalio.Client;
using Temporalio.Converters;
using Temporalio.Exceptions;

namespace AgentOrchestrator.Gateway.Events;

/// <summary>
/// Rebuilds a run's transcript from its Temporal workflow history: each completed agent step ("agent.run-step",
/// input <see cref="AgentStepInput"/> in ActivityTaskScheduled, result <see cref="AgentStepResult"/> in
/// ActivityTaskCompleted) as step.started, one token delta holding the whole text and step.completed, under the
/// attempt that completed; the run-level events the workflow asked to publish ("run.publish-event"); and, when the
/// run closed without publishing its end (terminated, timed out), a terminal event from the close itself. Ids end
/// in "/durable": they never match a live event, so a client resuming with one gets the whole transcript again
/// rather than a misplaced continuation.
/// </summary>
public sealed class TemporalRunTranscript(ITemporalClient temporal) : IDurableRunTranscript
{
    public const string DurableIdSuffix = "/durable";
    private const string AgentStepActivity = "agent.run-step";
    private const string PublishRunEventActivity = "run.publish-event";

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
            case AgentStepActivity when schedule.Input?.Payloads_.Count > 0 && completed.Result?.Payloads_.Count > 0:
                var input = converter.ToValue<AgentStepInput>(schedule.Input.Payloads_[0]);
                var result = converter.ToValue<AgentStepResult>(completed.Result.Payloads_[0]);
                RunEvent Step(string type, long index, string? text) => new()
                {
                    Id = RunEventIds.ForStep(runId, input.Step, attempt, type, index) + DurableIdSuffix,
                    RunId = runId,
                    TenantId = tenantId,
                    Type = type,
                    Step = input.Step,
                    Agent = input.Agent,
                    Attempt = attempt,
                    Index = index,
                    Text = text,
                    Ts = ts,
                };
                events.Add(Step(RunEventTypes.StepStarted, 0, null));
                events.Add(Step(RunEventTypes.Token, 0, result.Text));
                events.Add(Step(RunEventTypes.StepCompleted, 1, result.Text));
                return false;
            case PublishRunEventActivity when schedule.Input?.Payloads_.Count > 0:
                var lifecycle = converter.ToValue<RunLifecycleEvent>(schedule.Input.Payloads_[0]);
                events.Add(RunLevel(tenantId, runId, lifecycle.Type, lifecycle.Text, ts));
                return RunEventTerminals.IsTerminal(lifecycle.Type);
            default:
                return false;
        }
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

using AgentOrchestrator.Contracts;
using AgentOrchestrator.RunStreaming.Publishing;
using Temporalio.Activities;
using LogContext = Serilog.Context.LogContext;

namespace AgentOrchestrator.Workers;

/// <summary>
/// Publishes the run-level lifecycle events a workflow asks for (run.started, run.completed, ...), as a local activity
/// (RunEventPublishing in src/Workflows) or, in runs started before that, a regular one.
/// </summary>
public sealed class RunEventActivities(RunEventPublisher publisher, TimeProvider time, ILogger<RunEventActivities> logger)
{
    /// <summary>Publishes a run-level event (run.started, run.completed, input.requested, ...) to the run's subscribers.</summary>
    [Activity(AgentActivityNames.PublishRunEvent)]
    public async Task<RunLifecycleEvent> PublishRunEventAsync(RunLifecycleEvent lifecycle)
    {
        ArgumentNullException.ThrowIfNull(lifecycle);
        using IDisposable tenant = LogContext.PushProperty("TenantId", lifecycle.TenantId);
        using IDisposable run = LogContext.PushProperty("RunId", lifecycle.RunId);

        // A step event the workflow publishes itself (input.requested) has one attempt and one event of its type.
        bool stepEvent = lifecycle.Step is not null;
        var runEvent = new RunEvent
        {
            Id = stepEvent
                ? RunEventIds.ForStep(lifecycle.RunId, lifecycle.Step!, 1, lifecycle.Type, 0)
                : RunEventIds.ForRun(lifecycle.RunId, lifecycle.Type),
            RunId = lifecycle.RunId,
            TenantId = lifecycle.TenantId,
            Type = lifecycle.Type,
            Step = lifecycle.Step,
            Attempt = stepEvent ? 1 : 0,
            // Run-level events are positioned within the run: the start first, the one terminal event after it.
            Index = stepEvent || lifecycle.Type == RunEventTypes.RunStarted ? 0 : 1,
            Text = lifecycle.Text,
            Data = lifecycle.Data,
            Ts = time.GetUtcNow(),
        };
        await publisher.PublishAsync(
            new RunEventsPublished { RunId = lifecycle.RunId, TenantId = lifecycle.TenantId, Events = [runEvent] },
            ActivityExecutionContext.Current.CancellationToken);
        WorkerLog.RunEventPublished(logger, lifecycle.Type);
        // A local activity's history marker keeps its result, not its input: the durable transcript reads the event here.
        return lifecycle;
    }
}

using AgentOrchestrator.DevServer.Engine.Errors;
using AgentOrchestrator.DevServer.Engine.State;
using Temporalio.Api.Command.V1;
using Temporalio.Api.Enums.V1;
using Temporalio.Api.History.V1;

namespace AgentOrchestrator.DevServer.Engine;

/// <summary>The workflow's own timers (StartTimer / CancelTimer commands) and their TimerFired events.</summary>
internal sealed class UserTimers(EngineContext context, ExecutionRegistry registry, WorkflowTaskDispatcher workflowTasks)
{
    public void Start(WorkflowRun run, StartTimerCommandAttributes command, long completedEventId)
    {
        var started = context.NewEvent(EventType.TimerStarted);
        started.TimerStartedEventAttributes = new TimerStartedEventAttributes
        {
            TimerId = command.TimerId,
            StartToFireTimeout = command.StartToFireTimeout,
            WorkflowTaskCompletedEventId = completedEventId,
        };
        run.Append(started);
        var timer = new UserTimer
        {
            TimerId = command.TimerId,
            StartedEventId = started.EventId,
            FireTime = context.Now.UtcDateTime + command.StartToFireTimeout.ToTimeSpan(),
        };
        run.Timers[timer.TimerId] = timer;
        Arm(run, timer);
    }

    /// <summary>Arms a pending timer for its recorded fire time (after a restart, one due in the downtime fires at once).</summary>
    public void Arm(WorkflowRun run, UserTimer timer)
    {
        var (timerId, startedEventId) = (timer.TimerId, timer.StartedEventId);
        timer.Timer = context.StartTimerAt(timer.FireTime, () => registry.WithLockedRun(run, r => Fire(r, timerId, startedEventId)));
    }

    private void Fire(WorkflowRun run, string timerId, long startedEventId)
    {
        if (!run.IsOpen || !run.Timers.TryGetValue(timerId, out var timer) || timer.StartedEventId != startedEventId)
        {
            return;
        }
        run.Timers.Remove(timerId);
        var fired = context.NewEvent(EventType.TimerFired);
        fired.TimerFiredEventAttributes = new TimerFiredEventAttributes { TimerId = timerId, StartedEventId = startedEventId };
        workflowTasks.AddExternalEvent(run, fired);
    }

    /// <summary>A timer can be cancelled while pending or after firing during this task (its TimerFired still buffered).</summary>
    public static bool IsPendingOrBuffered(WorkflowRun run, string timerId) =>
        run.Timers.ContainsKey(timerId) || run.Buffer.Exists(e => e.EventType == EventType.TimerFired && e.TimerFiredEventAttributes.TimerId == timerId);

    public void Cancel(WorkflowRun run, string timerId, long completedEventId, string? identity)
    {
        long startedEventId;
        if (run.Timers.Remove(timerId, out var timer))
        {
            timer.Timer?.Dispose();
            startedEventId = timer.StartedEventId;
        }
        else
        {
            // It fired while this task ran: its TimerFired waits in the buffer and must never be written,
            // since the workflow has already given the timer up.
            var index = run.Buffer.FindIndex(e => e.EventType == EventType.TimerFired && e.TimerFiredEventAttributes.TimerId == timerId);
            if (index < 0)
            {
                throw new InvalidRequestException($"unknown timer {timerId}");
            }
            startedEventId = run.Buffer[index].TimerFiredEventAttributes.StartedEventId;
            run.Buffer.RemoveAt(index);
        }
        var canceled = context.NewEvent(EventType.TimerCanceled);
        canceled.TimerCanceledEventAttributes = new TimerCanceledEventAttributes
        {
            TimerId = timerId,
            StartedEventId = startedEventId,
            WorkflowTaskCompletedEventId = completedEventId,
            Identity = identity ?? string.Empty,
        };
        run.Append(canceled);
    }

    /// <summary>Re-arms the timers of a run loaded from storage.</summary>
    public void Resume(WorkflowRun run)
    {
        if (run.IsOpen)
        {
            foreach (var timer in run.Timers.Values)
            {
                Arm(run, timer);
            }
        }
    }

    /// <summary>A closing run's timers never fire.</summary>
    public static void StopAll(WorkflowRun run)
    {
        foreach (var timer in run.Timers.Values)
        {
            timer.Timer?.Dispose();
        }
        run.Timers.Clear();
    }
}

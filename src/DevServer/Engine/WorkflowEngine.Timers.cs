using Temporalio.Api.Command.V1;
using Temporalio.Api.Enums.V1;
using Temporalio.Api.History.V1;

namespace AgentOrchestrator.DevServer.Engine;

internal sealed partial class WorkflowEngine
{
    private void StartUserTimer(WorkflowRun run, StartTimerCommandAttributes command, long completedEventId)
    {
        var started = NewEvent(EventType.TimerStarted);
        started.TimerStartedEventAttributes = new TimerStartedEventAttributes
        {
            TimerId = command.TimerId,
            StartToFireTimeout = command.StartToFireTimeout,
            WorkflowTaskCompletedEventId = completedEventId,
        };
        run.Append(started);
        var timerId = command.TimerId;
        var startedEventId = started.EventId;
        var timer = StartTimer(command.StartToFireTimeout.ToTimeSpan(), () => WithLockedRun(run, r => FireUserTimer(r, timerId, startedEventId)));
        run.Timers[timerId] = new UserTimer { TimerId = timerId, StartedEventId = startedEventId, Timer = timer };
    }

    private void FireUserTimer(WorkflowRun run, string timerId, long startedEventId)
    {
        if (!run.IsOpen || !run.Timers.TryGetValue(timerId, out var timer) || timer.StartedEventId != startedEventId)
        {
            return;
        }
        run.Timers.Remove(timerId);
        var fired = NewEvent(EventType.TimerFired);
        fired.TimerFiredEventAttributes = new TimerFiredEventAttributes { TimerId = timerId, StartedEventId = startedEventId };
        AddExternalEvent(run, fired);
    }

    private void CancelUserTimer(WorkflowRun run, string timerId, long completedEventId, string? identity)
    {
        long startedEventId;
        if (run.Timers.Remove(timerId, out var timer))
        {
            timer.Timer.Dispose();
            startedEventId = timer.StartedEventId;
        }
        else
        {
            // It fired while this task ran: its TimerFired waits in the buffer and must never be written,
            // since the workflow has already given the timer up.
            var index = run.Buffer.FindIndex(e => e.EventType == EventType.TimerFired && e.TimerFiredEventAttributes.TimerId == timerId);
            if (index < 0)
            {
                throw Grpc.GrpcErrors.InvalidArgument($"unknown timer {timerId}");
            }
            startedEventId = run.Buffer[index].TimerFiredEventAttributes.StartedEventId;
            run.Buffer.RemoveAt(index);
        }
        var canceled = NewEvent(EventType.TimerCanceled);
        canceled.TimerCanceledEventAttributes = new TimerCanceledEventAttributes
        {
            TimerId = timerId,
            StartedEventId = startedEventId,
            WorkflowTaskCompletedEventId = completedEventId,
            Identity = identity ?? string.Empty,
        };
        run.Append(canceled);
    }
}

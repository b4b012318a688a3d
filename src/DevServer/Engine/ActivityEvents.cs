using Temporalio.Api.Enums.V1;
using Temporalio.Api.History.V1;

namespace AgentOrchestrator.DevServer.Engine;

/// <summary>
/// An activity's close event names its Started event, which is written lazily just before it; while both wait in
/// a run's buffer the id is a placeholder resolved when the buffer is flushed.
/// </summary>
internal static class ActivityEvents
{
    /// <summary>Placeholder for "the Started event just before me".</summary>
    public const long PendingStartedEventId = -1;

    public static void SetStartedEventId(HistoryEvent closeEvent, long startedEventId)
    {
        switch (closeEvent.EventType)
        {
            case EventType.ActivityTaskCompleted:
                closeEvent.ActivityTaskCompletedEventAttributes.StartedEventId = startedEventId;
                break;
            case EventType.ActivityTaskFailed:
                closeEvent.ActivityTaskFailedEventAttributes.StartedEventId = startedEventId;
                break;
            case EventType.ActivityTaskTimedOut:
                closeEvent.ActivityTaskTimedOutEventAttributes.StartedEventId = startedEventId;
                break;
            case EventType.ActivityTaskCanceled:
                closeEvent.ActivityTaskCanceledEventAttributes.StartedEventId = startedEventId;
                break;
        }
    }

    public static bool HasPendingStartedEventId(HistoryEvent historyEvent) => historyEvent.EventType switch
    {
        EventType.ActivityTaskCompleted => historyEvent.ActivityTaskCompletedEventAttributes.StartedEventId == PendingStartedEventId,
        EventType.ActivityTaskFailed => historyEvent.ActivityTaskFailedEventAttributes.StartedEventId == PendingStartedEventId,
        EventType.ActivityTaskTimedOut => historyEvent.ActivityTaskTimedOutEventAttributes.StartedEventId == PendingStartedEventId,
        EventType.ActivityTaskCanceled => historyEvent.ActivityTaskCanceledEventAttributes.StartedEventId == PendingStartedEventId,
        _ => false,
    };
}

using Temporalio.Api.Common.V1;
using Temporalio.Api.Failure.V1;
using Temporalio.Api.History.V1;

namespace AgentOrchestrator.DevServer.Engine.State;

internal enum ActivityPhase
{
    Queued,
    BackingOff,
    Started,
}

internal sealed class ActivityState
{
    public required long ScheduledEventId { get; init; }

    public required ActivityTaskScheduledEventAttributes Attributes { get; init; }

    public required DateTime FirstScheduledTime { get; init; }

    public required string TaskQueue { get; init; }

    public int Attempt { get; set; } = 1;

    public ActivityPhase Phase { get; set; }

    public DateTime CurrentAttemptScheduledTime { get; set; }

    /// <summary>The queued attempt's own schedule-to-start timeout (zero: none).</summary>
    public TimeSpan AttemptScheduleToStart { get; set; }

    public DateTime StartedTime { get; set; }

    /// <summary>Last heartbeat of the started attempt (null before the first): the heartbeat timeout counts from here.</summary>
    public DateTime? LastHeartbeatTime { get; set; }

    /// <summary>When the next attempt is queued, while backing off.</summary>
    public DateTime RetryTime { get; set; }

    public string? StartedIdentity { get; set; }

    public string StartedRequestId { get; set; } = string.Empty;

    public Payloads? HeartbeatDetails { get; set; }

    public Failure? LastFailure { get; set; }

    public bool CancelRequested { get; set; }

    /// <summary>PauseActivity: no new attempt is dispatched until UnpauseActivity; a running attempt hears it on its next heartbeat.</summary>
    public bool Paused { get; set; }

    /// <summary>ResetActivity on a running attempt: it hears it on its next heartbeat, and the next attempt starts again at 1.</summary>
    public bool ResetRequested { get; set; }

    public long CancelRequestedEventId { get; set; }

    /// <summary>Timers of the current attempt (start-to-close, heartbeat, schedule-to-start, retry backoff).</summary>
    public List<ITimer> AttemptTimers { get; } = [];

    public ITimer? ScheduleToCloseTimer { get; set; }

    public DateTime? Expiration { get; init; }

    public void CancelAttemptTimers()
    {
        foreach (var timer in AttemptTimers)
        {
            timer.Dispose();
        }
        AttemptTimers.Clear();
    }
}

using AgentOrchestrator.DevServer.Calendars;
using Google.Protobuf.Collections;
using Temporalio.Api.Common.V1;
using Temporalio.Api.Schedule.V1;

namespace AgentOrchestrator.DevServer.Schedules;

/// <summary>
/// One schedule's state, guarded by its own monitor. Everything here is what a store must keep to resume the
/// schedule after a restart (protos and plain values); the timer and the close watchers are rebuilt from it.
/// </summary>
internal sealed class ScheduleEntry(string ns, string scheduleId)
{
    public string Namespace { get; } = ns;

    public string ScheduleId { get; } = scheduleId;

    /// <summary>The schedule as given (Describe returns it with its spec in canonical form).</summary>
    public Schedule Schedule { get; set; } = new();

    public ScheduleTimes Times { get; set; } = null!;

    public Memo? Memo { get; set; }

    public SearchAttributes? SearchAttributes { get; set; }

    /// <summary>Counters, running workflows and recent actions (future action times are computed on read).</summary>
    public ScheduleInfo Info { get; } = new();

    public long ConflictToken { get; set; } = 1;

    /// <summary>Every nominal time up to here has been acted on, skipped or missed: the catch-up point after downtime.</summary>
    public DateTimeOffset LastProcessed { get; set; }

    /// <summary>Actions held back by a BUFFER_* or CANCEL_OTHER overlap policy until the running workflows close.</summary>
    public Queue<DateTimeOffset> Buffer { get; } = new();

    /// <summary>The result of the last action's workflow that completed, handed to the next one (Workflow.Info.LastResult).</summary>
    public Payloads? LastCompletionResult { get; set; }

    /// <summary>The failure of the last action's workflow that failed, handed to the next one.</summary>
    public Temporalio.Api.Failure.V1.Failure? LastFailure { get; set; }

    public ITimer? Timer { get; set; }

    public bool Deleted { get; set; }

    public RepeatedField<ScheduleActionResult> RecentActions => Info.RecentActions;
}

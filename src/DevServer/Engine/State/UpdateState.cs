using AgentOrchestrator.DevServer.Engine.Errors;
using Temporalio.Api.Update.V1;

namespace AgentOrchestrator.DevServer.Engine.State;

internal enum UpdatePhase
{
    Admitted,
    Delivered,
    Accepted,
    Completed,
}

internal sealed class UpdateState
{
    public required string UpdateId { get; init; }

    public required Request Request { get; init; }

    public UpdatePhase Phase { get; set; }

    public long AcceptedEventId { get; set; }

    public Outcome? Outcome { get; set; }

    /// <summary>An error for waiters when the update ends without an outcome (run closed, continued).</summary>
    public EngineException? Aborted { get; set; }

    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task Changed => _changed.Task;

    public void NotifyChanged()
    {
        var previous = _changed;
        _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        previous.TrySetResult();
    }
}

using Temporalio.Api.Enums.V1;
using Temporalio.Api.History.V1;

namespace AgentOrchestrator.DevServer.Engine.State;

internal sealed class ChildState
{
    public required long InitiatedEventId { get; init; }

    public required string Namespace { get; init; }

    public required string WorkflowId { get; init; }

    public required string WorkflowType { get; init; }

    public required ParentClosePolicy ParentClosePolicy { get; init; }

    /// <summary>The parent's ChildWorkflowExecutionStarted event (its id is known once it leaves the buffer).</summary>
    public HistoryEvent? StartedEvent { get; set; }

    public string? RunId { get; set; }

    /// <summary>A close that raced ahead of the Started event; written right after it.</summary>
    public HistoryEvent? PendingClose { get; set; }
}

using Temporalio.Api.Query.V1;

namespace AgentOrchestrator.DevServer.Engine.State;

internal sealed class PendingQuery
{
    public required string QueryId { get; init; }

    public required WorkflowQuery Query { get; init; }

    public TaskCompletionSource<WorkflowQueryResult> Result { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
}

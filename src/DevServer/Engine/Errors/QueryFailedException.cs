using Temporalio.Api.Failure.V1;

namespace AgentOrchestrator.DevServer.Engine.Errors;

/// <summary>The workflow's query handler failed.</summary>
internal sealed class QueryFailedException(string message, Failure? failure) : EngineException(message)
{
    public Failure? Failure { get; } = failure;
}

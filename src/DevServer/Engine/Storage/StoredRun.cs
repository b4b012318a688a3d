using Temporalio.Api.History.V1;

namespace AgentOrchestrator.DevServer.Engine.Storage;

/// <summary>A run as an earlier process stored it: its full history and its mutable state (<see cref="RunSnapshot"/>).</summary>
internal sealed record StoredRun(string Namespace, string WorkflowId, string RunId, List<HistoryEvent> History, byte[] State);

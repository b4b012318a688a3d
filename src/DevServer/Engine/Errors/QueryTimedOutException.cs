namespace AgentOrchestrator.DevServer.Engine.Errors;

/// <summary>The caller stopped waiting before the workflow answered its query.</summary>
internal sealed class QueryTimedOutException() : EngineException("query timed out before the workflow answered");

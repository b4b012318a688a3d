namespace AgentOrchestrator.DevServer.Engine.Errors;

/// <summary>A request that is malformed or not allowed in the run's state; nothing was changed by it.</summary>
internal sealed class InvalidRequestException(string message) : EngineException(message);

namespace AgentOrchestrator.DevServer.Engine.Errors;

/// <summary>
/// A request the engine refuses. The engine speaks no gRPC: <c>Grpc/EngineErrorMapper</c> turns each kind into
/// the status code and detail the real server sends.
/// </summary>
internal abstract class EngineException(string message) : Exception(message);

namespace AgentOrchestrator.DevServer.Engine.Errors;

/// <summary>The run continued as new before an update reached it: the caller retries on the new run.</summary>
internal sealed class WorkflowClosingException() : EngineException("workflow operation can not be applied because workflow is closing");

namespace AgentOrchestrator.DevServer.Engine.State;

internal enum WorkflowTaskState
{
    None,
    Scheduled,
    Started,
}

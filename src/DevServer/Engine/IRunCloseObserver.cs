using AgentOrchestrator.DevServer.Engine.State;
using Temporalio.Api.History.V1;

namespace AgentOrchestrator.DevServer.Engine;

/// <summary>Told under the run's lock when a run closes (how child workflows learn of a parent's or child's close).</summary>
internal interface IRunCloseObserver
{
    void RunClosed(WorkflowRun run, HistoryEvent closeEvent, bool chainContinues);
}

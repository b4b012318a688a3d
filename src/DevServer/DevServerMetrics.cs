using System.Diagnostics.Metrics;
using Temporalio.Api.Enums.V1;

namespace AgentOrchestrator.DevServer;

/// <summary>Counters an operator reads to see whether the dev server keeps up.</summary>
public sealed class DevServerMetrics : IDisposable
{
    public const string MeterName = "AgentOrchestrator.DevServer";

    private readonly Meter _meter;
    private readonly Counter<long> _tasksDispatched;
    private readonly Counter<long> _pollWaits;
    private readonly Counter<long> _pollTimeouts;
    private readonly Counter<long> _workflowsStarted;
    private readonly Counter<long> _workflowsClosed;

    public DevServerMetrics(IMeterFactory meterFactory)
    {
        _meter = meterFactory.Create(MeterName);
        _tasksDispatched = _meter.CreateCounter<long>("devserver.tasks.dispatched", description: "Workflow and activity tasks handed to workers.");
        _pollWaits = _meter.CreateCounter<long>("devserver.polls.waited", description: "Task polls that found no task at once and waited.");
        _pollTimeouts = _meter.CreateCounter<long>("devserver.polls.timed_out", description: "Task polls answered empty after waiting.");
        _workflowsStarted = _meter.CreateCounter<long>("devserver.workflows.started");
        _workflowsClosed = _meter.CreateCounter<long>("devserver.workflows.closed");
    }

    internal void TaskDispatched(string kind) => _tasksDispatched.Add(1, new KeyValuePair<string, object?>("kind", kind));

    internal void PollWaited(string kind) => _pollWaits.Add(1, new KeyValuePair<string, object?>("kind", kind));

    internal void PollTimedOut(string kind) => _pollTimeouts.Add(1, new KeyValuePair<string, object?>("kind", kind));

    internal void WorkflowStarted() => _workflowsStarted.Add(1);

    internal void WorkflowClosed(WorkflowExecutionStatus status) =>
        _workflowsClosed.Add(1, new KeyValuePair<string, object?>("status", status.ToString()));

    public void Dispose() => _meter.Dispose();
}

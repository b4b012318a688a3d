using AgentOrchestrator.TestSupport;
using Temporalio.Api.Enums.V1;
using Temporalio.Client;
using Temporalio.Common;
using Temporalio.Worker;

namespace AgentOrchestrator.DevServer.Tests;

/// <summary>
/// Small steps the tests share: connecting with a task queue of their own, starting a worker, reading a history's
/// event types (and the workflow-task runs they repeat), and waiting for an event to reach a history.
/// </summary>
internal static class ScenarioHelpers
{
    /// <summary>The three events of one workflow task that completes: scheduled, started, completed.</summary>
    public static readonly EventType[] WorkflowTask = [EventType.WorkflowTaskScheduled, EventType.WorkflowTaskStarted, EventType.WorkflowTaskCompleted];

    /// <summary>The events a run opens with: started, then its first workflow task.</summary>
    public static readonly EventType[] FirstWorkflowTask = [EventType.WorkflowExecutionStarted, .. WorkflowTask];

    /// <summary>The events a run closes with: a last workflow task, then WorkflowExecutionCompleted.</summary>
    public static readonly EventType[] CompletingWorkflowTask = [.. WorkflowTask, EventType.WorkflowExecutionCompleted];

    /// <summary>Connects a client to the test server and names a task queue of the test's own.</summary>
    public static async Task<(TemporalClient Client, string TaskQueue)> ConnectWithNewTaskQueueAsync(this DevServerFixture server) =>
        (await server.ConnectClientAsync(), $"tq-{Guid.NewGuid()}");

    /// <summary>Connects a client, names a task queue of the test's own and runs a worker on it, set up by <paramref name="register"/>.</summary>
    public static async Task<(TemporalClient Client, string TaskQueue, WorkerScope Worker)> StartWorkerAsync(
        this DevServerFixture server, Action<TemporalWorkerOptions> register)
    {
        var (client, taskQueue) = await server.ConnectWithNewTaskQueueAsync();
        var options = new TemporalWorkerOptions(taskQueue);
        register(options);
        return (client, taskQueue, WorkerScope.Start(client, options));
    }

    /// <summary>The types of a history's events, in order.</summary>
    public static List<EventType> EventTypes(WorkflowHistory history) => history.Events.Select(e => e.EventType).ToList();

    /// <summary>Waits until the workflow's history holds an event of <paramref name="type"/>.</summary>
    public static Task WaitForEventAsync(WorkflowHandle handle, EventType type, TimeSpan timeout, string because) =>
        Eventually.TrueAsync(async () => EventTypes(await handle.FetchHistoryAsync()).Contains(type), timeout, because);

    /// <summary>Waits (up to 30 s) until the workflow's first workflow task has completed.</summary>
    public static Task WaitForFirstTaskAsync(WorkflowHandle handle) =>
        WaitForEventAsync(handle, EventType.WorkflowTaskCompleted, TimeSpan.FromSeconds(30), "first workflow task never completed");

    /// <summary>
    /// A server of its own whose long polls return empty after 2 s, so a long wait spans several poll rounds.
    /// </summary>
    public static Task<DevServerHost> StartShortLongPollServerAsync() =>
        DevServerHost.StartAsync(new DevServerOptions { Port = 0, MaxLongPollWait = TimeSpan.FromSeconds(2) });

    /// <summary>Connects a client to a server the test started itself.</summary>
    public static Task<TemporalClient> ConnectAsync(DevServerHost host, string @namespace = "default") =>
        TemporalClient.ConnectAsync(new TemporalClientConnectOptions(host.Target) { Namespace = @namespace });
}

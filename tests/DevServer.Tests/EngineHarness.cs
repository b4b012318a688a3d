using AgentOrchestrator.DevServer.Engine;
using AgentOrchestrator.DevServer.Engine.State;
using AgentOrchestrator.DevServer.Engine.Storage;
using AgentOrchestrator.TestSupport;
using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Temporalio.Api.Command.V1;
using Temporalio.Api.Enums.V1;
using Temporalio.Api.TaskQueue.V1;
using Temporalio.Api.WorkflowService.V1;

namespace AgentOrchestrator.DevServer.Tests;

/// <summary>
/// The engine without gRPC, on a fake clock: tests drive one part through its own calls (start, poll, complete)
/// the way the endpoint does, and read the run's state under its lock.
/// </summary>
internal sealed class EngineHarness : IDisposable
{
    public const string Namespace = "default";
    private readonly ServiceProvider _services;

    public EngineHarness(DevServerOptions? options = null, IWorkflowStore? store = null)
    {
        _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        Engine = new WorkflowEngine(Options.Create(options ?? new DevServerOptions()), Time, NullLogger<WorkflowEngine>.Instance,
            new DevServerMetrics(_services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>()), store ?? new InMemoryWorkflowStore());
    }

    public FakeTimeProvider Time { get; } = new(DateTimeOffset.UtcNow);

    public WorkflowEngine Engine { get; }

    public string Start(string workflowId, string taskQueue) =>
        Engine.Lifecycle.StartWorkflow(new StartWorkflowExecutionRequest
        {
            Namespace = Namespace,
            WorkflowId = workflowId,
            WorkflowType = new Temporalio.Api.Common.V1.WorkflowType { Name = "Harness" },
            TaskQueue = new TaskQueue { Name = taskQueue },
            RequestId = Guid.NewGuid().ToString(),
        }).RunId;

    /// <summary>Polls a queue until a task arrives (timer callbacks run on the thread pool after the clock moves).</summary>
    public async Task<PollWorkflowTaskQueueResponse> PollWorkflowTaskAsync(string taskQueue, bool sticky = false, string normalName = "")
    {
        var request = new PollWorkflowTaskQueueRequest
        {
            Namespace = Namespace,
            TaskQueue = new TaskQueue { Name = taskQueue, Kind = sticky ? TaskQueueKind.Sticky : TaskQueueKind.Normal, NormalName = normalName },
            Identity = "harness-worker",
        };
        var response = await Engine.WorkflowTasks.PollAsync(request, TimeSpan.FromSeconds(30), CancellationToken.None);
        Assert.False(response.TaskToken.IsEmpty, $"no workflow task on {taskQueue} within 30 s");
        return response;
    }

    public void Complete(PollWorkflowTaskQueueResponse task, string? stickyQueue = null, params Command[] commands)
    {
        var request = new RespondWorkflowTaskCompletedRequest { Namespace = Namespace, TaskToken = task.TaskToken, Identity = "harness-worker" };
        request.Commands.AddRange(commands);
        if (stickyQueue is not null)
        {
            request.StickyAttributes = new StickyExecutionAttributes
            {
                WorkerTaskQueue = new TaskQueue { Name = stickyQueue, Kind = TaskQueueKind.Sticky },
                ScheduleToStartTimeout = Duration.FromTimeSpan(TimeSpan.FromSeconds(5)),
            };
        }
        Engine.Commands.CompleteWorkflowTask(request);
    }

    public static Command StartTimer(string timerId, TimeSpan after) => new()
    {
        CommandType = CommandType.StartTimer,
        StartTimerCommandAttributes = new StartTimerCommandAttributes { TimerId = timerId, StartToFireTimeout = Duration.FromTimeSpan(after) },
    };

    public static Command CancelTimer(string timerId) => new()
    {
        CommandType = CommandType.CancelTimer,
        CancelTimerCommandAttributes = new CancelTimerCommandAttributes { TimerId = timerId },
    };

    /// <summary>Reads the current run of a workflow under its lock.</summary>
    public T Read<T>(string workflowId, Func<WorkflowRun, T> read)
    {
        var chain = Engine.Registry.FindChain(Namespace, workflowId) ?? throw new InvalidOperationException($"no workflow {workflowId}");
        lock (chain)
        {
            return read(chain.Current!);
        }
    }

    public List<EventType> EventTypes(string workflowId) => Read(workflowId, run => run.History.Select(e => e.EventType).ToList());

    public Task WaitUntilAsync(string workflowId, Func<WorkflowRun, bool> condition, string because) =>
        Eventually.TrueAsync(() => Read(workflowId, condition), TimeSpan.FromSeconds(30), because);

    public void Dispose() => _services.Dispose();
}

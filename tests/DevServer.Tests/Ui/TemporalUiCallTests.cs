using AgentOrchestrator.TestSupport;
using Google.Protobuf;
using Temporalio.Activities;
using Temporalio.Api.Common.V1;
using Temporalio.Api.Enums.V1;
using Temporalio.Api.TaskQueue.V1;
using Temporalio.Api.WorkflowService.V1;
using Temporalio.Client;
using Temporalio.Worker;
using Temporalio.Workflows;
using static AgentOrchestrator.DevServer.Tests.ScenarioHelpers;
using WorkflowExecution = Temporalio.Api.Common.V1.WorkflowExecution;

namespace AgentOrchestrator.DevServer.Tests.Ui;

/// <summary>
/// The gRPC calls the Temporal UI server makes (it proxies the browser's /api/v1 routes to WorkflowService and
/// OperatorService), shaped as the UI sends them (temporalio/ui src/lib/services). The namespace, search attribute,
/// cluster-info, system-info and schedule calls are covered in NamespaceTests, OperatorServiceTests, GrpcSurfaceTests
/// and ScheduleTests; docs/devserver.md lists every call and its test.
/// </summary>
public sealed class TemporalUiCallTests(DevServerFixture server) : IClassFixture<DevServerFixture>
{
    [Workflow]
    public sealed class ParentWorkflow
    {
        private bool _finish;

        [WorkflowRun]
        public async Task RunAsync(bool withChild)
        {
            if (withChild)
            {
                await Workflow.ExecuteChildWorkflowAsync((ParentWorkflow wf) => wf.RunAsync(false), new ChildWorkflowOptions { Id = $"{Workflow.Info.WorkflowId}-child" });
            }
            var blocked = Workflow.ExecuteActivityAsync(() => BlockingActivities.WaitAsync(), new ActivityOptions
            {
                StartToCloseTimeout = TimeSpan.FromMinutes(5),
                HeartbeatTimeout = TimeSpan.FromMinutes(1),
                CancellationType = ActivityCancellationType.TryCancel,
            });
            await Workflow.WaitConditionAsync(() => _finish);
        }

        [WorkflowSignal]
        public Task FinishAsync()
        {
            _finish = true;
            return Task.CompletedTask;
        }
    }

    public static class BlockingActivities
    {
        [Activity]
        public static async Task WaitAsync()
        {
            while (true)
            {
                ActivityExecutionContext.Current.Heartbeat();
                await Task.Delay(TimeSpan.FromSeconds(1), ActivityExecutionContext.Current.CancellationToken);
            }
        }
    }

    [Fact]
    public async Task ListWorkflowExecutions_WithTheUisFilters_SelectsTheRightRuns()
    {
        var (client, taskQueue, worker) = await StartAsync();
        await using var _ = worker;
        var parent = await client.StartWorkflowAsync((ParentWorkflow wf) => wf.RunAsync(true), new WorkflowOptions($"ui-parent-{Guid.NewGuid()}", taskQueue));
        var child = client.GetWorkflowHandle($"{parent.Id}-child");
        await Eventually.TrueAsync(async () => await HasPendingActivityAsync(client, child.Id), TimeSpan.FromSeconds(60), "child never ran its activity");
        var service = client.Connection.WorkflowService;

        async Task<List<string>> ListAsync(string query, int pageSize = 0) =>
            (await service.ListWorkflowExecutionsAsync(new ListWorkflowExecutionsRequest { Namespace = server.Namespace, Query = query, PageSize = pageSize }))
                .Executions.Select(e => e.Execution.WorkflowId).ToList();

        // The authorization probe, the run-id lookup, the default list filter and the child-workflow tab.
        Assert.Single(await ListAsync(string.Empty, pageSize: 1));
        Assert.Equal([parent.Id], await ListAsync($"WorkflowId=\"{parent.Id}\""));
        Assert.Contains(parent.Id, await ListAsync($"`ExecutionStatus`=\"Running\" AND `WorkflowType`=\"ParentWorkflow\" AND StartTime > \"{DateTime.UtcNow.AddHours(-1):yyyy-MM-ddTHH:mm:ss.fffZ}\""));
        Assert.Equal([child.Id], await ListAsync($"ParentWorkflowId = \"{parent.Id}\" AND ParentRunId = \"{parent.ResultRunId}\""));
        Assert.Contains(child.Id, await ListAsync("(`ExecutionStatus`=\"Running\" OR `ExecutionStatus`=\"Canceled\" OR `ExecutionStatus`=\"Failed\")"));
        Assert.DoesNotContain(parent.Id, await ListAsync("`ExecutionStatus`=\"Completed\""));
    }

    [Fact]
    public async Task CountWorkflowExecutions_GroupByExecutionStatus_AndTheTaskFailureCount()
    {
        var (client, taskQueue, worker) = await StartAsync();
        await using var _ = worker;
        var type = $"Counted{Guid.NewGuid():N}";
        var service = client.Connection.WorkflowService;
        for (var i = 0; i < 3; i++)
        {
            await service.StartWorkflowExecutionAsync(new StartWorkflowExecutionRequest
            {
                Namespace = server.Namespace,
                WorkflowId = $"{type}-{i}",
                WorkflowType = new WorkflowType { Name = type },
                TaskQueue = new TaskQueue { Name = $"nobody-polls-{type}" },
                RequestId = Guid.NewGuid().ToString(),
            });
        }
        await client.GetWorkflowHandle($"{type}-0").TerminateAsync("counted as terminated");

        var grouped = await service.CountWorkflowExecutionsAsync(new CountWorkflowExecutionsRequest
        {
            Namespace = server.Namespace,
            Query = $"`WorkflowType`=\"{type}\" GROUP BY ExecutionStatus",
        });

        Assert.Equal(3, grouped.Count);
        var byStatus = grouped.Groups.ToDictionary(g => g.GroupValues.Single().Data.ToStringUtf8(), g => g.Count);
        Assert.Equal(2, byStatus["\"Running\""]);
        Assert.Equal(1, byStatus["\"Terminated\""]);
        var all = await service.CountWorkflowExecutionsAsync(new CountWorkflowExecutionsRequest { Namespace = server.Namespace, Query = "GROUP BY ExecutionStatus" });
        Assert.True(all.Count >= 3);
        var failures = await service.CountWorkflowExecutionsAsync(new CountWorkflowExecutionsRequest
        {
            Namespace = server.Namespace,
            Query = "`ExecutionStatus`=\"Running\" AND `TemporalReportedProblems` IN (\"category=WorkflowTaskFailed\", \"category=WorkflowTaskTimedOut\")",
        });
        Assert.Equal(0, failures.Count);
    }

    [Fact]
    public async Task WorkflowDetail_DescribeHistoryBothWaysStackTraceAndTaskQueuePollers()
    {
        var (client, taskQueue, worker) = await StartAsync();
        await using var _ = worker;
        var handle = await client.StartWorkflowAsync((ParentWorkflow wf) => wf.RunAsync(false), new WorkflowOptions($"ui-detail-{Guid.NewGuid()}", taskQueue));
        await Eventually.TrueAsync(async () => await HasPendingActivityAsync(client, handle.Id), TimeSpan.FromSeconds(60), "the activity never started");
        var service = client.Connection.WorkflowService;
        var execution = new WorkflowExecution { WorkflowId = handle.Id, RunId = handle.ResultRunId };

        var described = await service.DescribeWorkflowExecutionAsync(new DescribeWorkflowExecutionRequest { Namespace = server.Namespace, Execution = execution });
        var pending = Assert.Single(described.PendingActivities);
        Assert.Equal("Wait", pending.ActivityType.Name);
        Assert.Equal(PendingActivityState.Started, pending.State);
        Assert.Equal(WorkflowExecutionStatus.Running, described.WorkflowExecutionInfo.Status);

        var forward = await service.GetWorkflowExecutionHistoryAsync(new GetWorkflowExecutionHistoryRequest { Namespace = server.Namespace, Execution = execution });
        var firstPage = await service.GetWorkflowExecutionHistoryReverseAsync(new GetWorkflowExecutionHistoryReverseRequest
        {
            Namespace = server.Namespace,
            Execution = execution,
            MaximumPageSize = 2,
        });
        var rest = await service.GetWorkflowExecutionHistoryReverseAsync(new GetWorkflowExecutionHistoryReverseRequest
        {
            Namespace = server.Namespace,
            Execution = execution,
            NextPageToken = firstPage.NextPageToken,
        });
        Assert.Equal(2, firstPage.History.Events.Count);
        Assert.Equal(
            forward.History.Events.Select(e => e.EventId).Reverse(),
            firstPage.History.Events.Concat(rest.History.Events).Select(e => e.EventId));
        Assert.True(rest.NextPageToken.IsEmpty);

        var stack = await service.QueryWorkflowAsync(new QueryWorkflowRequest
        {
            Namespace = server.Namespace,
            Execution = execution,
            Query = new Temporalio.Api.Query.V1.WorkflowQuery { QueryType = "__stack_trace" },
        });
        Assert.Contains("Task waiting at", stack.QueryResult.Payloads_.Single().Data.ToStringUtf8(), StringComparison.Ordinal);

        var workflowPollers = await service.DescribeTaskQueueAsync(new DescribeTaskQueueRequest
        {
            Namespace = server.Namespace,
            TaskQueue = new TaskQueue { Name = taskQueue, Kind = TaskQueueKind.Normal },
            TaskQueueType = TaskQueueType.Workflow,
        });
        var activityPollers = await service.DescribeTaskQueueAsync(new DescribeTaskQueueRequest
        {
            Namespace = server.Namespace,
            TaskQueue = new TaskQueue { Name = taskQueue, Kind = TaskQueueKind.Normal },
            TaskQueueType = TaskQueueType.Activity,
        });
        var identity = client.Connection.Options.Identity;
        Assert.Equal(identity, Assert.Single(workflowPollers.Pollers).Identity);
        Assert.Equal(identity, Assert.Single(activityPollers.Pollers).Identity);
        Assert.NotNull(workflowPollers.Pollers[0].LastAccessTime);
        var nexus = await service.DescribeTaskQueueAsync(new DescribeTaskQueueRequest
        {
            Namespace = server.Namespace,
            TaskQueue = new TaskQueue { Name = taskQueue },
            TaskQueueType = TaskQueueType.Nexus,
        });
        Assert.Empty(nexus.Pollers);
        await handle.SignalAsync(wf => wf.FinishAsync());
    }

    [Fact]
    public async Task Actions_SignalCancelAndTerminate_AsTheUiSendsThem()
    {
        var (client, taskQueue, worker) = await StartAsync();
        await using var _ = worker;
        var service = client.Connection.WorkflowService;
        var signalled = await client.StartWorkflowAsync((ParentWorkflow wf) => wf.RunAsync(false), new WorkflowOptions($"ui-signal-{Guid.NewGuid()}", taskQueue));
        var cancelled = await client.StartWorkflowAsync((ParentWorkflow wf) => wf.RunAsync(false), new WorkflowOptions($"ui-cancel-{Guid.NewGuid()}", taskQueue));
        var terminated = await client.StartWorkflowAsync((ParentWorkflow wf) => wf.RunAsync(false), new WorkflowOptions($"ui-terminate-{Guid.NewGuid()}", taskQueue));
        await WaitForFirstTaskAsync(signalled);
        await WaitForFirstTaskAsync(cancelled);

        // Signal: the UI sends the signal's name, the execution and JSON payloads it encoded itself.
        await service.SignalWorkflowExecutionAsync(new SignalWorkflowExecutionRequest
        {
            Namespace = server.Namespace,
            WorkflowExecution = new WorkflowExecution { WorkflowId = signalled.Id, RunId = signalled.ResultRunId },
            SignalName = "Finish",
            Identity = "ui-user",
            RequestId = Guid.NewGuid().ToString(),
        });
        await signalled.GetResultAsync();

        // Cancel: execution with its run id and an identity.
        await service.RequestCancelWorkflowExecutionAsync(new RequestCancelWorkflowExecutionRequest
        {
            Namespace = server.Namespace,
            WorkflowExecution = new WorkflowExecution { WorkflowId = cancelled.Id, RunId = cancelled.ResultRunId },
            Identity = "ui-user",
            RequestId = Guid.NewGuid().ToString(),
        });
        Assert.Equal(WorkflowExecutionStatus.Canceled, await WaitForCloseAsync(client, cancelled.Id));

        // Terminate: addressed by first execution run id, with a reason.
        await service.TerminateWorkflowExecutionAsync(new TerminateWorkflowExecutionRequest
        {
            Namespace = server.Namespace,
            WorkflowExecution = new WorkflowExecution { WorkflowId = terminated.Id },
            FirstExecutionRunId = terminated.ResultRunId,
            Reason = "stopped from the UI",
            Identity = "ui-user",
        });
        Assert.Equal(WorkflowExecutionStatus.Terminated, await WaitForCloseAsync(client, terminated.Id));
        var close = (await terminated.FetchHistoryAsync()).Events.Last();
        Assert.Equal("stopped from the UI", close.WorkflowExecutionTerminatedEventAttributes.Reason);
    }

    private async Task<(TemporalClient Client, string TaskQueue, WorkerScope Worker)> StartAsync() =>
        await server.StartWorkerAsync(options =>
        {
            options.AddWorkflow<ParentWorkflow>().AddActivity(BlockingActivities.WaitAsync);
            options.WorkflowStackTrace = WorkflowStackTrace.Normal;
        });

    private async Task<bool> HasPendingActivityAsync(TemporalClient client, string workflowId)
    {
        try
        {
            return (await client.Connection.WorkflowService.DescribeWorkflowExecutionAsync(new DescribeWorkflowExecutionRequest
            {
                Namespace = server.Namespace,
                Execution = new WorkflowExecution { WorkflowId = workflowId },
            })).PendingActivities.Any(a => a.State == PendingActivityState.Started);
        }
        catch (Temporalio.Exceptions.RpcException error) when (error.Code == Temporalio.Exceptions.RpcException.StatusCode.NotFound)
        {
            return false; // the child is not started yet
        }
    }

    private static async Task<WorkflowExecutionStatus> WaitForCloseAsync(TemporalClient client, string workflowId)
    {
        var status = WorkflowExecutionStatus.Running;
        await Eventually.TrueAsync(async () =>
        {
            status = (await client.GetWorkflowHandle(workflowId).DescribeAsync()).Status;
            return status != WorkflowExecutionStatus.Running;
        }, TimeSpan.FromSeconds(60), "the workflow did not close");
        return status;
    }
}

using System.Collections.Concurrent;
using AgentOrchestrator.TestSupport;
using Temporalio.Activities;
using Temporalio.Api.Enums.V1;
using Temporalio.Client;
using Temporalio.Common;
using Temporalio.Exceptions;
using Temporalio.Worker;
using Temporalio.Workflows;

namespace AgentOrchestrator.DevServer.Tests.Samples;

/// <summary>
/// Periodic polling in a child workflow that continues as new between rounds; the parent learns only the
/// final outcome of the child's whole run chain.
/// </summary>
public sealed class PollingTests(DevServerFixture server) : IClassFixture<DevServerFixture>
{
    public sealed record PollInput(string ServiceKey, int SucceedOnPoll, int PollsPerRun, int PollsSoFar = 0);

    public static class ServiceActivities
    {
        private static readonly ConcurrentDictionary<string, int> Polls = new();

        [Activity]
        public static string Poll(PollInput input)
        {
            var poll = Polls.AddOrUpdate(input.ServiceKey, 1, (_, n) => n + 1);
            if (poll < input.SucceedOnPoll)
            {
                throw new ApplicationFailureException($"not ready at poll {poll}", "NotReady", nonRetryable: true);
            }
            return $"ready at poll {poll}";
        }
    }

    [Workflow]
    public sealed class PollingChildWorkflow
    {
        private static readonly ActivityOptions Options = new()
        {
            StartToCloseTimeout = TimeSpan.FromSeconds(30),
            RetryPolicy = new RetryPolicy { MaximumAttempts = 1 },
        };

        [WorkflowRun]
        public async Task<string> RunAsync(PollInput input)
        {
            for (var i = 0; i < input.PollsPerRun; i++)
            {
                try
                {
                    return await Workflow.ExecuteActivityAsync(() => ServiceActivities.Poll(input), Options);
                }
                catch (ActivityFailureException)
                {
                    await Workflow.DelayAsync(TimeSpan.FromMilliseconds(100));
                }
            }
            // Keep each run's history short: carry on in a fresh run.
            var next = input with { PollsSoFar = input.PollsSoFar + input.PollsPerRun };
            throw Workflow.CreateContinueAsNewException((PollingChildWorkflow wf) => wf.RunAsync(next));
        }
    }

    [Workflow]
    public sealed class PollingParentWorkflow
    {
        [WorkflowRun]
        public Task<string> RunAsync(PollInput input) =>
            Workflow.ExecuteChildWorkflowAsync((PollingChildWorkflow wf) => wf.RunAsync(input),
                new() { Id = $"{Workflow.Info.WorkflowId}-poller" });
    }

    [Fact]
    public async Task PeriodicChild_ContinuesAsNewBetweenRounds_ParentSeesOnlyFinalResult()
    {
        var (client, taskQueue) = await server.ConnectWithNewTaskQueueAsync();
        var parentId = $"wf-{Guid.NewGuid()}";
        var childId = $"{parentId}-poller";
        await using var worker = WorkerScope.Start(client, new TemporalWorkerOptions(taskQueue)
            .AddWorkflow<PollingParentWorkflow>()
            .AddWorkflow<PollingChildWorkflow>()
            .AddActivity(ServiceActivities.Poll));

        // Ready on the 5th poll with 2 polls per run: runs 1 and 2 continue as new, run 3 succeeds.
        var handle = await client.StartWorkflowAsync((PollingParentWorkflow wf) => wf.RunAsync(new PollInput(parentId, 5, 2)),
            new WorkflowOptions(parentId, taskQueue));
        Assert.Equal("ready at poll 5", await handle.GetResultAsync());

        var childRuns = new List<WorkflowHistory>();
        for (string? runId = (await client.GetWorkflowHandle(childId).DescribeAsync()).RunId; runId is not null;)
        {
            var history = await client.GetWorkflowHandle(childId, runId).FetchHistoryAsync();
            childRuns.Insert(0, history);
            var previous = history.Events.First().WorkflowExecutionStartedEventAttributes.ContinuedExecutionRunId;
            runId = string.IsNullOrEmpty(previous) ? null : previous;
        }
        Assert.Equal(3, childRuns.Count);
        Assert.Equal([2, 2, 1], childRuns.Select(r => r.Events.Count(e => e.EventType == EventType.ActivityTaskScheduled)));
        var firstChildRunId = childRuns[0].Events.First().WorkflowExecutionStartedEventAttributes.OriginalExecutionRunId;
        Assert.All(childRuns, r =>
        {
            var started = r.Events.First().WorkflowExecutionStartedEventAttributes;
            // Every run of the chain keeps the parent link.
            Assert.Equal(parentId, started.ParentWorkflowExecution.WorkflowId);
            Assert.Equal(firstChildRunId, started.FirstExecutionRunId);
        });

        var parentHistory = await handle.FetchHistoryAsync();
        var events = parentHistory.Events.ToList();
        var childStarted = Assert.Single(events, e => e.EventType == EventType.ChildWorkflowExecutionStarted);
        Assert.Equal(firstChildRunId, childStarted.ChildWorkflowExecutionStartedEventAttributes.WorkflowExecution.RunId);
        var childCompleted = Assert.Single(events, e => e.EventType == EventType.ChildWorkflowExecutionCompleted);
        Assert.Equal(childStarted.EventId, childCompleted.ChildWorkflowExecutionCompletedEventAttributes.StartedEventId);
        Assert.DoesNotContain(events, e => e.EventType is EventType.ChildWorkflowExecutionFailed or EventType.ChildWorkflowExecutionTerminated);

        await Replay.AssertDeterministicAsync(parentHistory, typeof(PollingParentWorkflow), typeof(PollingChildWorkflow));
        foreach (var run in childRuns)
        {
            await Replay.AssertDeterministicAsync(run, typeof(PollingChildWorkflow));
        }
    }
}

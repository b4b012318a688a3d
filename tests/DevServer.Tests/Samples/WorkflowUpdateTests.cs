using AgentOrchestrator.TestSupport;
using Temporalio.Api.Enums.V1;
using Temporalio.Client;
using Temporalio.Exceptions;
using Temporalio.Worker;
using Temporalio.Workflows;

namespace AgentOrchestrator.DevServer.Tests.Samples;

/// <summary>Updates that change workflow state and return a value, guarded by a validator.</summary>
public sealed class WorkflowUpdateTests(DevServerFixture server) : IClassFixture<DevServerFixture>
{
    [Workflow]
    public sealed class ScoreboardWorkflow
    {
        private int _total;
        private bool _closed;

        [WorkflowRun]
        public async Task<int> RunAsync()
        {
            await Workflow.WaitConditionAsync(() => _closed);
            return _total;
        }

        [WorkflowUpdate]
        public async Task<int> AddPointsAsync(int points)
        {
            // Give the handler a real suspension point so accept and complete land in different tasks.
            await Workflow.DelayAsync(TimeSpan.FromMilliseconds(10));
            _total += points;
            return _total;
        }

        [WorkflowUpdateValidator(nameof(AddPointsAsync))]
        public void ValidateAddPoints(int points)
        {
            if (points <= 0)
            {
                throw new ArgumentOutOfRangeException(nameof(points), "points must be positive");
            }
        }

        [WorkflowUpdate]
        public Task<int> CloseAsync()
        {
            _closed = true;
            return Task.FromResult(_total);
        }
    }

    [Fact]
    public async Task Update_ValidAndInvalid_ReturnsResultsAndRejectsWithoutEvents()
    {
        var (client, taskQueue) = await server.ConnectWithNewTaskQueueAsync();
        await using var worker = WorkerScope.Start(client, new TemporalWorkerOptions(taskQueue).AddWorkflow<ScoreboardWorkflow>());

        var handle = await client.StartWorkflowAsync((ScoreboardWorkflow wf) => wf.RunAsync(),
            new WorkflowOptions($"wf-{Guid.NewGuid()}", taskQueue));

        Assert.Equal(5, await handle.ExecuteUpdateAsync(wf => wf.AddPointsAsync(5)));

        var rejected = await Assert.ThrowsAsync<WorkflowUpdateFailedException>(() => handle.ExecuteUpdateAsync(wf => wf.AddPointsAsync(-3)));
        var cause = Assert.IsType<ApplicationFailureException>(rejected.InnerException);
        Assert.Contains("points must be positive", cause.Message, StringComparison.Ordinal);

        var started = await handle.StartUpdateAsync(wf => wf.AddPointsAsync(7), new(WorkflowUpdateStage.Accepted) { Id = "add-seven" });
        Assert.Equal("add-seven", started.Id);
        Assert.Equal(12, await started.GetResultAsync());

        Assert.Equal(12, await handle.ExecuteUpdateAsync(wf => wf.CloseAsync()));
        Assert.Equal(12, await handle.GetResultAsync());

        var history = await handle.FetchHistoryAsync();
        var accepted = history.Events.Where(e => e.EventType == EventType.WorkflowExecutionUpdateAccepted).ToList();
        Assert.Equal(["AddPoints", "AddPoints", "Close"], accepted.Select(e => e.WorkflowExecutionUpdateAcceptedEventAttributes.AcceptedRequest.Input.Name));
        Assert.Equal("add-seven", accepted[1].WorkflowExecutionUpdateAcceptedEventAttributes.ProtocolInstanceId);
        var completed = history.Events.Where(e => e.EventType == EventType.WorkflowExecutionUpdateCompleted).ToList();
        Assert.Equal(accepted.Select(e => e.EventId), completed.Select(e => e.WorkflowExecutionUpdateCompletedEventAttributes.AcceptedEventId));
        Assert.DoesNotContain(history.Events, e => e.EventType == EventType.WorkflowExecutionUpdateRejected);
        await Replay.AssertDeterministicAsync(history, typeof(ScoreboardWorkflow));
    }
}

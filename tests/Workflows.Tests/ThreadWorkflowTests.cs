using AgentOrchestrator.Contracts;
using AgentOrchestrator.TestSupport;
using Temporalio.Api.Enums.V1;
using Temporalio.Client;
using Temporalio.Common;
using Temporalio.Exceptions;
using Temporalio.Worker;

namespace AgentOrchestrator.Workflows.Tests;

/// <summary>
/// The chat-thread workflow on a real DevServer with in-test activities (which record each turn's input). Set
/// RECORD_WORKFLOW_HISTORIES to tests/Workflows.Tests/Histories to refresh the checked-in thread histories that
/// ChatThreadHistoryTests replays (one run that continued as new, and the run it continued into).
/// </summary>
public sealed class ThreadWorkflowTests(DevServerFixture server) : IClassFixture<DevServerFixture>
{
    [Fact]
    public async Task PostMessage_AfterContinueAsNew_TurnStillSeesWholeConversation()
    {
        var activities = new RecordingActivities();
        await RunAsync(activities, turnsPerRun: 2, maxMessages: 100, async (client, workflowId) =>
        {
            // No run id: every message goes to the thread's current run, also after it continued as new.
            WorkflowHandle<ChatThreadWorkflow> thread = client.GetWorkflowHandle<ChatThreadWorkflow>(workflowId);
            string firstRunId = (await thread.DescribeAsync()).RunId!;

            ThreadTurnResult one = await thread.ExecuteUpdateAsync(wf => wf.PostMessageAsync(new ThreadMessageRequest { Text = "My name is Ada." }));
            ThreadTurnResult two = await thread.ExecuteUpdateAsync(wf => wf.PostMessageAsync(new ThreadMessageRequest { Text = "I like graphs." }));
            ThreadTurnResult three = await thread.ExecuteUpdateAsync(wf => wf.PostMessageAsync(new ThreadMessageRequest { Text = "What is my name?" }));

            Assert.Equal((1, "turn.1"), (one.Turn, one.Step));
            Assert.Equal((2, "turn.2"), (two.Turn, two.Step));
            Assert.Equal((3, "turn.3"), (three.Turn, three.Step));
            AgentStepInput[] steps = activities.Steps.ToArray();
            Assert.Equal(["turn.1", "turn.2", "turn.3"], steps.Select(s => s.Step));
            Assert.Empty(steps[0].History!);
            Assert.Equal(
                [
                    new ConversationMessage(ConversationRoles.User, "My name is Ada."),
                    new ConversationMessage(ConversationRoles.Assistant, one.Text),
                    new ConversationMessage(ConversationRoles.User, "I like graphs."),
                    new ConversationMessage(ConversationRoles.Assistant, two.Text),
                ],
                steps[2].History!);
            Assert.Equal("What is my name?", steps[2].Prompt);
            Assert.All(steps, s => Assert.Equal(workflowId, RunWorkflowIds.For(s.TenantId, s.RunId)));

            // The rollover happened, under the same workflow id, and the first run's history replays.
            WorkflowHandle firstRun = client.GetWorkflowHandle(workflowId, runId: firstRunId);
            WorkflowHistory firstHistory = await firstRun.FetchHistoryAsync();
            Assert.Equal(EventType.WorkflowExecutionContinuedAsNew, firstHistory.Events.Last().EventType);
            Assert.NotEqual(firstRunId, (await thread.DescribeAsync()).RunId);
            Assert.Equal(6, (await thread.QueryAsync(wf => wf.Messages)).Count);
            await AssertReplaysAsync(firstHistory);
            await RecordAsync(firstHistory, ChatThreads.WorkflowType);

            await thread.CancelAsync();
            var failure = await Assert.ThrowsAsync<WorkflowFailedException>(() => thread.GetResultAsync());
            Assert.IsType<CanceledFailureException>(failure.InnerException);
            Assert.Equal([RunEventTypes.RunStarted, RunEventTypes.RunCanceled], activities.RunEvents.Select(e => e.Type));
            WorkflowHistory lastHistory = await thread.FetchHistoryAsync();
            await AssertReplaysAsync(lastHistory);
            await RecordAsync(lastHistory, $"{ChatThreads.WorkflowType}.continued");
        });
    }

    [Fact]
    public async Task PostMessage_ConcurrentMessages_RunOneAfterAnotherAndKeepOnlyNewestMessages()
    {
        var activities = new RecordingActivities();
        await RunAsync(activities, turnsPerRun: 50, maxMessages: 2, async (client, workflowId) =>
        {
            WorkflowHandle<ChatThreadWorkflow> thread = client.GetWorkflowHandle<ChatThreadWorkflow>(workflowId);

            ThreadTurnResult[] turns = await Task.WhenAll(
                thread.ExecuteUpdateAsync(wf => wf.PostMessageAsync(new ThreadMessageRequest { Text = "first" })),
                thread.ExecuteUpdateAsync(wf => wf.PostMessageAsync(new ThreadMessageRequest { Text = "second" })));
            ThreadTurnResult last = await thread.ExecuteUpdateAsync(wf => wf.PostMessageAsync(new ThreadMessageRequest { Text = "third" }));

            Assert.Equal([1, 2], turns.Select(t => t.Turn).Order());
            Assert.Equal(3, last.Turn);
            AgentStepInput[] steps = activities.Steps.ToArray();
            Assert.Equal(["turn.1", "turn.2", "turn.3"], steps.Select(s => s.Step));
            // Turn 2 started only after turn 1 answered; turn 3 sees only the newest two messages.
            Assert.Equal([ConversationRoles.User, ConversationRoles.Assistant], steps[1].History!.Select(m => m.Role));
            Assert.Equal(steps[1].Prompt, steps[2].History![0].Text);
            Assert.Equal(2, steps[2].History!.Count);

            var rejected = await Assert.ThrowsAsync<WorkflowUpdateFailedException>(
                () => thread.ExecuteUpdateAsync(wf => wf.PostMessageAsync(new ThreadMessageRequest { Text = "  " })));
            Assert.Equal("InvalidMessage", Assert.IsType<ApplicationFailureException>(rejected.InnerException).ErrorType);
            Assert.Equal(3, activities.Steps.Count);
            await thread.CancelAsync();
        });
    }

    private async Task RunAsync(RecordingActivities activities, int turnsPerRun, int maxMessages, Func<TemporalClient, string, Task> act)
    {
        TemporalClient client = await server.ConnectClientAsync();
        string taskQueue = $"thread-tests-{Guid.NewGuid():n}";
        using var worker = new TemporalWorker(client, new TemporalWorkerOptions(taskQueue)
            .AddAllActivities(activities).AddWorkflow<ChatThreadWorkflow>());
        await worker.ExecuteAsync(async () =>
        {
            string threadId = Guid.NewGuid().ToString("n");
            string workflowId = RunWorkflowIds.For("acme", threadId);
            await client.StartWorkflowAsync((ChatThreadWorkflow wf) => wf.RunAsync(new ThreadInput
            {
                ThreadId = threadId,
                TenantId = "acme",
                Instructions = ChatThreads.DefaultInstructions,
                TurnsPerRun = turnsPerRun,
                MaxMessages = maxMessages,
            }), new WorkflowOptions(workflowId, taskQueue));
            await act(client, workflowId);
        });
    }

    private static async Task RecordAsync(WorkflowHistory history, string name)
    {
        if (Environment.GetEnvironmentVariable("RECORD_WORKFLOW_HISTORIES") is { Length: > 0 } directory)
        {
            await File.WriteAllTextAsync(Path.Combine(directory, $"{name}.json"), history.ToJson());
        }
    }

    private static async Task AssertReplaysAsync(WorkflowHistory history)
    {
        var replayer = new WorkflowReplayer(new WorkflowReplayerOptions().AddWorkflow<ChatThreadWorkflow>());
        WorkflowReplayResult replay = await replayer.ReplayWorkflowAsync(history, throwOnReplayFailure: false);
        Assert.Null(replay.ReplayFailure);
    }
}

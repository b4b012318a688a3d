using AgentOrchestrator.Contracts;
using Temporalio.Api.Enums.V1;
using Temporalio.Common;
using Temporalio.Worker;

namespace AgentOrchestrator.Workflows.Tests.Threads;

/// <summary>
/// chat-thread's recorded histories (see ThreadWorkflowTests) replay against the current code: a run that continued
/// as new after its turns, and the run it continued into, which starts from the carried-over conversation.
/// </summary>
public sealed class ChatThreadHistoryTests
{
    [Theory]
    [InlineData(ChatThreads.WorkflowType, EventType.WorkflowExecutionContinuedAsNew, "")]
    [InlineData(ChatThreads.WorkflowType + ".continued", EventType.WorkflowExecutionCanceled, "")]
    // Recorded before run events went through a local activity (see ShippedFlowHistoryTests).
    [InlineData(ChatThreads.WorkflowType, EventType.WorkflowExecutionContinuedAsNew, "v1")]
    [InlineData(ChatThreads.WorkflowType + ".continued", EventType.WorkflowExecutionCanceled, "v1")]
    public async Task ReplayWorkflowAsync_RecordedThreadHistory_ReplaysWithoutNondeterminism(string name, EventType lastEvent, string version)
    {
        string path = Path.Combine(AppContext.BaseDirectory, "Histories", version, $"{name}.json");
        Assert.True(File.Exists(path), $"chat-thread has no recorded history at {path}");
        WorkflowHistory history = WorkflowHistory.FromJson(RunWorkflowIds.For("acme", $"recorded-{name}"), await File.ReadAllTextAsync(path));
        Assert.Equal(lastEvent, history.Events.Last().EventType);

        WorkflowReplayResult replay = await new WorkflowReplayer(new WorkflowReplayerOptions().AddWorkflow<ChatThreadWorkflow>())
            .ReplayWorkflowAsync(history, throwOnReplayFailure: false);

        Assert.Null(replay.ReplayFailure);
    }
}

using AgentOrchestrator.Contracts;
using AgentOrchestrator.Workflows.Authoring;
using Temporalio.Common;
using Temporalio.Exceptions;
using Temporalio.Worker;
using Temporalio.Workflows;

namespace HelloFlows.Tests;

/// <summary>
/// Replays a history recorded from a real run of the hello flow (a worker, the dev server and the model simulator; the
/// greeter called its tool), so a change that alters the decisions a run in flight already took fails this build.
/// </summary>
public sealed class HelloWorkflowReplayTests
{
    private static readonly string HistoryPath = Path.Combine(AppContext.BaseDirectory, "Histories", "hello.json");

    [Fact]
    public async Task Replay_RecordedRun_Succeeds()
    {
        WorkflowReplayResult result = await new WorkflowReplayer(new WorkflowReplayerOptions().AddWorkflow<HelloWorkflow>())
            .ReplayWorkflowAsync(await LoadAsync(), throwOnReplayFailure: false);

        Assert.Null(result.ReplayFailure);
    }

    [Fact]
    public async Task Replay_FlowThatWaitsBeforeTheGreeter_FailsAsNondeterministic()
    {
        WorkflowReplayResult result = await new WorkflowReplayer(new WorkflowReplayerOptions().AddWorkflow<HelloWorkflowThatWaitsFirst>())
            .ReplayWorkflowAsync(await LoadAsync(), throwOnReplayFailure: false);

        Assert.IsType<WorkflowNondeterminismException>(result.ReplayFailure);
    }

    private static async Task<WorkflowHistory> LoadAsync() =>
        WorkflowHistory.FromJson(RunWorkflowIds.For("acme", "recorded"), await File.ReadAllTextAsync(HistoryPath));

    /// <summary>The hello flow changed without a patch: a timer where the recorded run scheduled the greeter's model turn.</summary>
    [Workflow(HelloWorkflow.Name)]
    public sealed class HelloWorkflowThatWaitsFirst
    {
        [WorkflowRun]
        public Task<string> RunAsync(RunInput input) => AgentFlow.RunAsync(input, async flow =>
        {
            await Workflow.DelayAsync(TimeSpan.FromSeconds(1));
            AgentResult greeting = await flow.RunAgentAsync(HelloWorkflow.Greeter, flow.Run.Input);
            return greeting.Text;
        });
    }
}

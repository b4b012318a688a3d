using System.Text.Json;
using AgentOrchestrator.Contracts;
using AgentOrchestrator.TestSupport;
using AgentOrchestrator.Workflows;
using Microsoft.Extensions.DependencyInjection;
using Temporalio.Client;
using Temporalio.Extensions.Hosting;
using Temporalio.Workflows;

namespace AgentOrchestrator.Workers.Tests;

/// <summary>The worker host with one more flow on its task queue: an approval step built on HumanInput.</summary>
public sealed class InteractionWorkerFixture : AgentWorkerFixture
{
    protected override void ConfigureWorkerServices(IServiceCollection services) =>
        new TemporalWorkerServiceOptionsBuilder(TaskQueues.Agents, services).AddWorkflow<InteractionApprovalFlow>();
}

[Workflow("interaction-approval-flow")]
public sealed class InteractionApprovalFlow
{
    public static JsonElement Schema { get; } = JsonDocument.Parse("""{"type": "boolean"}""").RootElement.Clone();

    [WorkflowRun]
    public async Task<bool> RunAsync()
    {
        HumanInputAnswer answer = await HumanInput.RequestAsync("approve", "Publish the post?", Schema, TimeSpan.FromMinutes(5), JsonDocument.Parse("false").RootElement);
        return answer.Answer.GetBoolean();
    }
}

/// <summary>input.requested goes out through the worker's run-event activity and the bus, as a step event with its data.</summary>
public sealed class InteractionEventTests(InteractionWorkerFixture fixture) : IClassFixture<InteractionWorkerFixture>
{
    [Fact]
    public async Task RequestAsync_OnWorker_PublishesInputRequestedStepEventWithData()
    {
        string runId = Guid.NewGuid().ToString("n");
        WorkflowHandle<InteractionApprovalFlow, bool> handle = await fixture.Client.StartWorkflowAsync(
            (InteractionApprovalFlow wf) => wf.RunAsync(), new WorkflowOptions(RunWorkflowIds.For("acme", runId), TaskQueues.Agents));

        await Eventually.TrueAsync(() => fixture.Events.Has(runId, RunEventTypes.InputRequested), because: "input.requested is published");

        RunEvent requested = Assert.Single(fixture.Events.EventsOf(runId));
        Assert.Equal(RunEventIds.ForStep(runId, "approve", 1, RunEventTypes.InputRequested, 0), requested.Id);
        Assert.Equal(("acme", "approve", 1, 0L), (requested.TenantId, requested.Step, requested.Attempt, requested.Index));
        InputRequestedData data = requested.Data!.Value.Deserialize<InputRequestedData>(JsonSerializerOptions.Web)!;
        Assert.Equal(("approve", "Publish the post?", 300), (data.RequestId, data.Prompt, data.TimeoutSeconds));
        Assert.True(JsonElement.DeepEquals(InteractionApprovalFlow.Schema, data.Schema));

        await handle.ExecuteUpdateAsync(HumanInputUpdates.ProvideInput,
            [new ProvideInputRequest { RequestId = "approve", Answer = JsonDocument.Parse("true").RootElement }]);
        Assert.True(await handle.GetResultAsync());
    }
}

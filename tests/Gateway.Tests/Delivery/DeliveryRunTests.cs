using AgentOrchestrator.Contracts;
using AgentOrchestrator.TestSupport;
using AgentOrchestrator.Workflows;
using Microsoft.AspNetCore.SignalR.Client;

namespace AgentOrchestrator.Gateway.Tests.Delivery;

/// <summary>Real runs (worker + simulator) through the gateway: retries supersede, late subscribers, durable transcript.</summary>
public sealed class DeliveryRunTests(RunningGatewayFixture fixture) : IClassFixture<RunningGatewayFixture>
{
    [Fact]
    public async Task Subscribe_StepCutOnAttempt1_TranscriptIsAttempt2sTextAndStepRetryingSeen()
    {
        var run = await fixture.CutRun;

        var retrying = Assert.Single(run.Events, e => e.Type == RunEventTypes.StepRetrying);
        Assert.Equal((WriterReviewerWorkflow.WriterStep, 2), (retrying.Step, retrying.Attempt));
        Assert.Contains(run.Events, e => e.Step == WriterReviewerWorkflow.WriterStep && e.Attempt == 1 && e.Type == RunEventTypes.Token);
        var client = new ClientTranscript();
        run.Events.ForEach(client.Apply);
        Assert.Equal(FinalText(run.Events, WriterReviewerWorkflow.WriterStep, attempt: 2), client.TextOf(WriterReviewerWorkflow.WriterStep));
        Assert.Equal(run.Events.Single(e => e.Type == RunEventTypes.RunCompleted).Text, client.TextOf(WriterReviewerWorkflow.ReviewerStep));
        Assert.Equal([RunEventTypes.RunStarted, RunEventTypes.RunCompleted], client.Lifecycle);
    }

    [Fact]
    public async Task Subscribe_AfterCompletion_GetsTheWholeTranscriptWithoutTheSupersededAttempt()
    {
        var run = await fixture.CutRun;
        await using var hub = await RunningGatewayFixture.HubAsync(fixture.Address, run.Tenant);

        var late = await RunningGatewayFixture.CollectAsync(hub, run.RunId, null);

        Assert.DoesNotContain(late, e => e.Step == WriterReviewerWorkflow.WriterStep && e.Attempt == 1);
        Assert.Equal(Render(run.Events), Render(late));
    }

    [Fact]
    public async Task Subscribe_OnGatewayWithoutTheRunsTail_GetsStreamResetThenTheDurableTranscript()
    {
        var run = await fixture.CutRun;
        // A second gateway on the same Temporal, with its own bus: it never received this run's events.
        await using var other = await GatewayTestHost.StartAsync(fixture.DevServer.Target);
        await using var hub = await RunningGatewayFixture.HubAsync(other.Address, run.Tenant);
        var cursor = run.Events.First(e => e.Type == RunEventTypes.Token).Id;

        var withCursor = await RunningGatewayFixture.CollectAsync(hub, run.RunId, cursor);
        var withoutCursor = await RunningGatewayFixture.CollectAsync(hub, run.RunId, null);

        Assert.Equal(RunEventTypes.StreamReset, withCursor[0].Type);
        Assert.Equal(Render(run.Events), Render(withCursor));
        Assert.DoesNotContain(withoutCursor, e => e.Type == RunEventTypes.StreamReset);
        Assert.Equal(Render(run.Events), Render(withoutCursor));
        Assert.All(withCursor.Skip(1), e => Assert.EndsWith("/durable", e.Id, StringComparison.Ordinal));
        var writer = withCursor.Where(e => e.Step == WriterReviewerWorkflow.WriterStep).ToList();
        Assert.All(writer, e => Assert.Equal(2, e.Attempt));
    }

    [Fact]
    public async Task Subscribe_AgentLoopRunOnGatewayWithoutItsTail_DurableTranscriptHoldsEveryTurnAndToolCall()
    {
        // The fixture's one injected fault goes to its own run: this run streams without faults.
        await fixture.CutRun;
        var tenant = GatewayFixture.NewTenant();
        await using var hub = await RunningGatewayFixture.HubAsync(fixture.Address, tenant);
        var runId = await hub.InvokeAsync<string>("StartRun", Flows.ResearchTeam,
            "How do retries work? [[call:Research-search {\"query\":\"retries backoff\"}]] [[call:Flow-verdict {\"approved\":true}]]");
        var live = await RunningGatewayFixture.CollectAsync(hub, runId, null);
        await using var other = await GatewayTestHost.StartAsync(fixture.DevServer.Target);
        await using var otherHub = await RunningGatewayFixture.HubAsync(other.Address, tenant);

        var durable = await RunningGatewayFixture.CollectAsync(otherHub, runId, null);

        Assert.All(durable, e => Assert.EndsWith("/durable", e.Id, StringComparison.Ordinal));
        // Parallel researchers interleave live; the durable record lists steps as they finished: compare per step.
        Assert.Equal(TextByStep(live), TextByStep(durable));
        Assert.Equal(ToolExchanges(live), ToolExchanges(durable));
        Assert.NotEmpty(ToolExchanges(live));
        Assert.Equal(live.Single(e => e.Type == RunEventTypes.RunCompleted).Text, durable[^1].Text);
    }

    private static SortedDictionary<string, string> TextByStep(List<RunEvent> events)
    {
        var client = new ClientTranscript();
        events.ForEach(client.Apply);
        return new(events.Where(e => e.Step is not null).Select(e => e.Step!).Distinct().ToDictionary(s => s, client.TextOf), StringComparer.Ordinal);
    }

    private static List<string> ToolExchanges(List<RunEvent> events) =>
    [
        .. events.Where(e => e.Type is RunEventTypes.ToolCall or RunEventTypes.ToolResult)
            .Select(e => $"{e.Step}:{e.Type}:{e.Data!.Value.GetProperty("callId").GetString()}:{e.Data!.Value.GetProperty("tool").GetString()}:" +
                (e.Type == RunEventTypes.ToolCall ? e.Data!.Value.GetProperty("arguments").GetRawText() : e.Data!.Value.GetProperty("result").GetString()))
            .Order(StringComparer.Ordinal),
    ];

    private static string FinalText(IEnumerable<RunEvent> events, string step, int attempt) =>
        events.Single(e => e.Step == step && e.Attempt == attempt && e.Type == RunEventTypes.StepCompleted).Text!;

    private static string Render(List<RunEvent> events)
    {
        var client = new ClientTranscript();
        events.ForEach(client.Apply);
        return client.Render() + "|" + string.Join(',', client.Lifecycle);
    }
}

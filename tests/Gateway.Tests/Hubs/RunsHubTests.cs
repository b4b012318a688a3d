using AgentOrchestrator.Contracts;
using AgentOrchestrator.RunStreaming.Ordering;
using AgentOrchestrator.TestSupport;
using MassTransit;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using Temporalio.Api.Enums.V1;

namespace AgentOrchestrator.Gateway.Tests.Hubs;

[Collection(GatewayTestGroup.Name)]
public sealed class RunsHubTests(GatewayFixture fixture)
{
    private static readonly TimeSpan StreamTimeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task StartRun_Valid_StartsTenantScopedWorkflow()
    {
        var tenant = GatewayFixture.NewTenant();
        await using var hub = await fixture.HubForAsync(tenant);

        var runId = await hub.InvokeAsync<string>("StartRun", Flows.WriterReviewer, "a haiku");

        var description = await fixture.Temporal.GetWorkflowHandle(RunWorkflowIds.For(tenant, runId)).DescribeAsync();
        Assert.Equal(WorkflowExecutionStatus.Running, description.Status);
        Assert.Equal(Flows.WriterReviewer, description.WorkflowType);
    }

    [Fact]
    public async Task StartRun_InputAtLimit_IsAccepted()
    {
        var tenant = GatewayFixture.NewTenant();
        await using var hub = await fixture.HubForAsync(tenant);

        var runId = await hub.InvokeAsync<string>("StartRun", Flows.WriterReviewer, new string('\u00e9', 32 * 1024));

        Assert.False(string.IsNullOrEmpty(runId));
        Assert.Equal(1, await fixture.CountWorkflowsAsync(tenant));
    }

    [Theory]
    [InlineData("no-such-flow", "hello", "Unknown flow")]
    [InlineData("writer-reviewer", "", "'input' is required")]
    [InlineData("writer-reviewer", null, "is 32769 characters long")]
    public async Task StartRun_Invalid_ThrowsHubExceptionWithReasonAndStartsNothing(string flow, string? input, string reason)
    {
        var tenant = GatewayFixture.NewTenant();
        await using var hub = await fixture.HubForAsync(tenant);

        var error = await Assert.ThrowsAsync<HubException>(() => hub.InvokeAsync<string>("StartRun", flow, input ?? new string('x', (32 * 1024) + 1)));

        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
        Assert.Equal(0, await fixture.CountWorkflowsAsync(tenant));
    }

    [Fact]
    public async Task Subscribe_PublishedEvents_ArriveInOrderWithoutDuplicatesAndEndAtRunCompleted()
    {
        var tenant = GatewayFixture.NewTenant();
        await using var hub = await fixture.HubForAsync(tenant);
        var runId = await hub.InvokeAsync<string>("StartRun", Flows.WriterReviewer, "hello");
        var events = Script(tenant, runId);

        using var timeout = new CancellationTokenSource(StreamTimeout);
        var received = new List<RunEvent>();
        var subscribed = Task.Run(async () =>
        {
            await foreach (var runEvent in hub.StreamAsync<RunEvent>("Subscribe", runId, null, timeout.Token))
            {
                received.Add(runEvent);
            }
        });
        await PublishAsync(tenant, runId, events[..3]);
        await PublishAsync(tenant, runId, [events[1], events[2]]); // redelivery
        await PublishAsync(tenant, runId, events[3..]);
        await PublishAsync(tenant, runId, [events[^1]]); // a duplicate after the end is dropped too
        await subscribed;

        Assert.Equal(events.Select(e => e.Id), received.Select(e => e.Id));
        Assert.Equal(RunEventTypes.RunCompleted, received[^1].Type);
        Assert.Equal("Hello world", string.Concat(received.Where(e => e.Type == RunEventTypes.Token).Select(e => e.Text)));
    }

    [Fact]
    public async Task Subscribe_WithCursor_ReplaysOnlyLaterEvents()
    {
        var tenant = GatewayFixture.NewTenant();
        await using var hub = await fixture.HubForAsync(tenant);
        var runId = await hub.InvokeAsync<string>("StartRun", Flows.WriterReviewer, "hello");
        var events = Script(tenant, runId);
        await PublishAsync(tenant, runId, events);
        await WaitRetainedAsync(tenant, runId, events.Length);

        var fromCursor = await CollectAsync(hub, runId, events[2].Id);
        var fromStart = await CollectAsync(hub, runId, "");

        Assert.Equal(events.Skip(3).Select(e => e.Id), fromCursor.Select(e => e.Id));
        Assert.Equal(events.Select(e => e.Id), fromStart.Select(e => e.Id));
    }

    [Fact]
    public async Task Subscribe_MidRun_ReplaysThenContinuesLive()
    {
        var tenant = GatewayFixture.NewTenant();
        await using var hub = await fixture.HubForAsync(tenant);
        var runId = await hub.InvokeAsync<string>("StartRun", Flows.WriterReviewer, "hello");
        var events = Script(tenant, runId);
        await PublishAsync(tenant, runId, events[..3]);
        await WaitRetainedAsync(tenant, runId, 3);

        using var timeout = new CancellationTokenSource(StreamTimeout);
        var received = new List<RunEvent>();
        var reachedLive = new TaskCompletionSource();
        var subscribed = Task.Run(async () =>
        {
            await foreach (var runEvent in hub.StreamAsync<RunEvent>("Subscribe", runId, events[0].Id, timeout.Token))
            {
                received.Add(runEvent);
                if (runEvent.Id == events[2].Id)
                {
                    reachedLive.TrySetResult();
                }
            }
        });
        await reachedLive.Task.WaitAsync(StreamTimeout);
        await PublishAsync(tenant, runId, events[2..]);
        await subscribed;

        Assert.Equal(events.Skip(1).Select(e => e.Id), received.Select(e => e.Id));
    }

    [Fact]
    public async Task Subscribe_OtherTenantsRun_FailsLikeAnUnknownRun()
    {
        var owner = GatewayFixture.NewTenant();
        await using var ownerHub = await fixture.HubForAsync(owner);
        var runId = await ownerHub.InvokeAsync<string>("StartRun", Flows.WriterReviewer, "secret");
        await PublishAsync(owner, runId, Script(owner, runId)[..2]);
        await using var otherHub = await fixture.HubForAsync(GatewayFixture.NewTenant());

        var foreign = await Assert.ThrowsAsync<HubException>(() => CollectAsync(otherHub, runId, null));
        var unknown = await Assert.ThrowsAsync<HubException>(() => CollectAsync(otherHub, "0123456789abcdef0123456789abcdef", null));

        Assert.Contains("run not found", foreign.Message, StringComparison.Ordinal);
        Assert.Equal(unknown.Message, foreign.Message);
    }

    [Fact]
    public async Task Connect_WithoutToken_IsRejected()
    {
        await using var connection = new HubConnectionBuilder().WithUrl(new Uri(fixture.Host.Address, "hubs/runs")).Build();
        var error = await Assert.ThrowsAnyAsync<Exception>(() => connection.StartAsync());
        Assert.Contains("401", error.Message, StringComparison.Ordinal);
    }

    private static async Task<List<RunEvent>> CollectAsync(HubConnection hub, string runId, string? cursor)
    {
        using var timeout = new CancellationTokenSource(StreamTimeout);
        var received = new List<RunEvent>();
        await foreach (var runEvent in hub.StreamAsync<RunEvent>("Subscribe", runId, cursor, timeout.Token))
        {
            received.Add(runEvent);
        }
        return received;
    }

    /// <summary>Publishing is asynchronous: wait until the gateway's tail holds the expected number of events.</summary>
    private Task WaitRetainedAsync(string tenant, string runId, int count) =>
        Eventually.TrueAsync(async () => await fixture.Host.Services.RetainedCountAsync(tenant, runId) >= count, because: $"{count} events retained");

    private async Task PublishAsync(string tenant, string runId, IReadOnlyList<RunEvent> events) =>
        await fixture.Host.Services.PublishRunEventsAsync(new RunEventsPublished { RunId = runId, TenantId = tenant, Events = events });

    private static RunEvent[] Script(string tenant, string runId)
    {
        var ts = DateTimeOffset.UtcNow;
        RunEvent Step(string type, int index, string? text = null) => new()
        {
            Id = RunEventIds.ForStep(runId, "writer", 1, type, index),
            RunId = runId,
            TenantId = tenant,
            Type = type,
            Step = "writer",
            Agent = "writer",
            Attempt = 1,
            Index = index,
            Text = text,
            Ts = ts,
        };
        return
        [
            new RunEvent { Id = RunEventIds.ForRun(runId, RunEventTypes.RunStarted), RunId = runId, TenantId = tenant, Type = RunEventTypes.RunStarted, Ts = ts },
            Step(RunEventTypes.StepStarted, 0),
            Step(RunEventTypes.Token, 0, "Hel"),
            Step(RunEventTypes.Token, 1, "lo "),
            Step(RunEventTypes.Token, 2, "world"),
            Step(RunEventTypes.StepCompleted, 0, "Hello world"),
            new RunEvent { Id = RunEventIds.ForRun(runId, RunEventTypes.RunCompleted), RunId = runId, TenantId = tenant, Type = RunEventTypes.RunCompleted, Text = "Hello world", Ts = ts },
        ];
    }
}

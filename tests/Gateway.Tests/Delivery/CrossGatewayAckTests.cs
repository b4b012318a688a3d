using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using AgentOrchestrator.Contracts;
using AgentOrchestrator.RunStreaming.Subscribers;
using AgentOrchestrator.TestSupport;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;

namespace AgentOrchestrator.Gateway.Tests.Delivery;

/// <summary>Two gateways on a real RabbitMQ broker: acknowledged positions travel between them in subscriber digests.</summary>
[Collection(GatewayTestGroup.Name)]
public sealed class CrossGatewayAckTests(GatewayFixture fixture, RabbitMqFixture rabbitMq) : IClassFixture<RabbitMqFixture>
{
    private static readonly TimeSpan StreamTimeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task SubscribeAs_WithoutCursorOnAnotherGateway_ResumesFromThePositionAcknowledgedOnTheFirst()
    {
        await using var redis = await RedisServer.StartAsync();
        var settings = new Dictionary<string, string?>
        {
            ["Bus:Transport"] = "RabbitMq",
            ["Bus:RabbitMqUri"] = rabbitMq.Uri.ToString(),
            ["RunEvents:Log:Store"] = "Redis",
            ["RunEvents:Log:Redis"] = redis.Configuration,
        };
        await using var first = await GatewayTestHost.StartAsync(fixture.DevServer.Target, settings: settings);
        await using var second = await GatewayTestHost.StartAsync(fixture.DevServer.Target, settings: settings);
        var tenant = GatewayFixture.NewTenant();
        var token = await fixture.DevTokenAsync(tenant);
        await using var onFirst = await ConnectAsync(first, token);
        var run = new RunScript(tenant, await onFirst.InvokeAsync<string>("StartRun", Flows.WriterReviewer, "two gateways"));
        var events = new List<RunEvent> { run.RunStarted() };
        events.AddRange(run.Step("writer", 1, "Ack", "ed ", "every", "where"));
        events.Add(run.RunCompleted("Acked everywhere"));
        await using var bus = await first.Services.RabbitMqPublisherAsync();
        await bus.PublishAsync(run.Message([.. events[..5]]));
        await WaitHeldAsync(second, run, events[4].Id);

        // On the first gateway: receive five events, acknowledge the third, then drop.
        var received = new List<RunEvent>();
        using (var stop = new CancellationTokenSource(StreamTimeout))
        {
            await foreach (var runEvent in onFirst.StreamAsync<RunEvent>("SubscribeAs", run.RunId, "sub-roaming", null, stop.Token))
            {
                received.Add(runEvent);
                if (received.Count == 5)
                {
                    break;
                }
            }
        }
        await onFirst.InvokeAsync("Ack", run.RunId, events[2].Id);

        // The second gateway learns the position from the first one's digest.
        using var http = new HttpClient { BaseAddress = second.Address };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        var firstInstance = first.Services.GetRequiredService<GatewayInstance>().Id;
        await Eventually.TrueAsync(async () =>
        {
            var listed = await http.GetFromJsonAsync<JsonElement>(new Uri($"v1/runs/{run.RunId}/subscribers", UriKind.Relative));
            return listed.GetProperty("subscribers").EnumerateArray().Any(s =>
                s.GetProperty("subscriptionId").GetString() == "sub-roaming"
                && s.GetProperty("gatewayInstance").GetString() == firstInstance
                && s.TryGetProperty("acknowledged", out var acked) && acked.GetString() == events[2].Id
                && s.GetProperty("delivered").GetString() == events[4].Id);
        }, because: "the second gateway lists the first one's subscriber with its positions");

        await using var onSecond = await ConnectAsync(second, token);
        var resumed = new List<RunEvent>();
        var resuming = Task.Run(async () =>
        {
            using var stop = new CancellationTokenSource(StreamTimeout);
            await foreach (var runEvent in onSecond.StreamAsync<RunEvent>("SubscribeAs", run.RunId, "sub-roaming", null, stop.Token))
            {
                resumed.Add(runEvent);
            }
        });
        await bus.PublishAsync(run.Message([.. events[5..]]));
        await resuming;

        // Everything after the acknowledged event and nothing before it: the deltas one by one, or compacted into one
        // event if the writer's step had finished when the resume read them.
        Assert.Equal(events.Skip(6).Select(e => e.Id), resumed.Where(e => e.Type != RunEventTypes.Token).Select(e => e.Id));
        Assert.Equal("ed everywhere", string.Concat(resumed.Where(e => e.Type == RunEventTypes.Token).Select(e => e.Text)));
        var client = new ClientTranscript();
        received.Take(3).Concat(resumed).ToList().ForEach(client.Apply);
        Assert.Equal("writer=Acked everywhere", client.Render());
    }

    private static async Task<HubConnection> ConnectAsync(GatewayTestHost host, string token)
    {
        var hub = new HubConnectionBuilder()
            .WithUrl(new Uri(host.Address, "hubs/runs"), o => o.AccessTokenProvider = () => Task.FromResult<string?>(token))
            .Build();
        await hub.StartAsync();
        return hub;
    }

    private static Task WaitHeldAsync(GatewayTestHost host, RunScript run, string eventId) =>
        Eventually.TrueAsync(async () => await host.Services.HoldsAsync(run.Tenant, run.RunId, eventId), because: $"{eventId} on the second gateway");
}

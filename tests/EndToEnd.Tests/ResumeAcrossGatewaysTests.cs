using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using AgentOrchestrator.Contracts;
using AgentOrchestrator.TestSupport;

namespace AgentOrchestrator.EndToEnd.Tests;

/// <summary>
/// Resume anywhere (docs/replay-tier.md): dev server, simulator, worker and two gateways as processes over real
/// RabbitMQ and Redis; every gateway folds a run's log in the same order, so a cursor from one is valid on the other. The simulator
/// streams slowly (20 tokens/s, one token per event) so that breaks land mid-stream.
/// </summary>
public sealed class ResumeAcrossGatewaysTests(RabbitMqFixture rabbit) : IClassFixture<RabbitMqFixture>
{
    private const string Input = "Explain why durable workflows help AI agents.";
    private static readonly TimeSpan RunTimeout = TimeSpan.FromMinutes(3);
    private static readonly Dictionary<string, string> SlowModel = new() { ["ModelSimulator__TokensPerSecond"] = "20" };

    [Theory]
    [InlineData(ResumingSubscriber.SignalR)]
    [InlineData(ResumingSubscriber.WebSocket)]
    public async Task Subscribe_GatewayKilledMidStream_ResumesOnTheOtherGatewayWithExactTranscript(string transport)
    {
        await using var deployment = await DistributedDeployment.StartAsync(rabbit.Uri, SlowModel, gateways: 2);
        var (runId, token) = await StartRunAsync(deployment, "tenant-kill-" + transport);
        var midStream = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var subscriber = new ResumingSubscriber(deployment.Gateways, token, runId)
        {
            Transport = transport,
            OnEvent = (_, e) =>
            {
                if (e is { Type: RunEventTypes.Token, Step: "writer", Index: >= 5 })
                {
                    midStream.TrySetResult();
                }
            },
        };
        var reading = subscriber.RunAsync(RunTimeout);
        await midStream.Task.WaitAsync(RunTimeout);
        var killed = subscriber.CurrentGateway;
        await deployment.KillGatewayAsync(killed);
        await WithOutputAsync(deployment, reading);

        Assert.NotEqual(killed, subscriber.CurrentGateway);
        Assert.True(subscriber.Connections >= 2, "the subscriber never reconnected");
        TranscriptAssertions.Exact(subscriber, await RunOfAsync(subscriber.CurrentGateway, token, runId), "gateway killed mid-stream");
    }

    [Theory]
    [InlineData(ResumingSubscriber.SignalR)]
    [InlineData(ResumingSubscriber.WebSocket)]
    public async Task Subscribe_TransportAbortedAtFiveRandomPoints_TranscriptExactEveryTime(string transport)
    {
        await using var deployment = await DistributedDeployment.StartAsync(rabbit.Uri, SlowModel, gateways: 2);
        var (runId, token) = await StartRunAsync(deployment, "tenant-abort-" + transport);
        // A two-step run at one token per event has well over 60 events; five distinct break points among the first 60.
        var seed = Random.Shared.Next();
        var random = new Random(seed);
        var breakPoints = new SortedSet<int>();
        while (breakPoints.Count < 5)
        {
            breakPoints.Add(random.Next(2, 60));
        }
        var abortedConnection = 0;
        var subscriber = new ResumingSubscriber(deployment.Gateways, token, runId)
        {
            Transport = transport,
            OnEvent = (s, _) =>
            {
                // One abort per connection: events already buffered may still arrive on one being torn down.
                if (breakPoints.Count > 0 && s.Received >= breakPoints.Min && s.Connections > abortedConnection)
                {
                    breakPoints.Remove(breakPoints.Min);
                    abortedConnection = s.Connections;
                    s.AbortTransport();
                }
            },
        };
        await WithOutputAsync(deployment, subscriber.RunAsync(RunTimeout));

        Assert.Empty(breakPoints);
        Assert.True(subscriber.Connections >= 6, $"expected five resumes (seed {seed}); breaks: {string.Join(" | ", subscriber.Breaks)}");
        TranscriptAssertions.Exact(subscriber, await RunOfAsync(deployment.Gateway, token, runId), $"transport aborted (seed {seed})");
    }

    [Fact]
    public async Task Subscribe_GatewayStartedAfterTheRunBegan_ReadsTheRunsLogAndServesResumeAndLateSubscriber()
    {
        await using var deployment = await DistributedDeployment.StartAsync(rabbit.Uri, SlowModel, gateways: 1);
        var (runId, token) = await StartRunAsync(deployment, "tenant-late");
        var gateways = new List<Uri> { deployment.Gateway };
        var midStream = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var resuming = new ResumingSubscriber(gateways, token, runId)
        {
            OnEvent = (_, e) =>
            {
                if (e is { Type: RunEventTypes.Token, Step: "writer", Index: >= 5 })
                {
                    midStream.TrySetResult();
                }
            },
        };
        var reading = resuming.RunAsync(RunTimeout);
        await midStream.Task.WaitAsync(RunTimeout);

        var late = await deployment.StartGatewayAsync();
        gateways.Add(late);
        resuming.AbortTransport(); // resumes on the next gateway in the list: the one that just warmed up
        var joining = new ResumingSubscriber([late], token, runId);
        await WithOutputAsync(deployment, Task.WhenAll(reading, joining.RunAsync(RunTimeout)));
        var afterCompletion = new ResumingSubscriber([late], token, runId);
        await WithOutputAsync(deployment, afterCompletion.RunAsync(RunTimeout));

        var run = await RunOfAsync(late, token, runId);
        Assert.Equal(late, resuming.CurrentGateway);
        TranscriptAssertions.Exact(resuming, run, "resumed on a gateway started mid-run");
        TranscriptAssertions.Exact(joining, run, "subscribed on a gateway started mid-run");
        TranscriptAssertions.Exact(afterCompletion, run, "subscribed after completion on a gateway started mid-run");
    }

    private static async Task<(string RunId, string Token)> StartRunAsync(DistributedDeployment deployment, string tenant)
    {
        await using var client = await RunClient.ConnectAsync(deployment.Gateway, tenant);
        var runId = await client.StartRunAsync(Flows.WriterReviewer, Input);
        return (runId, await ResumingSubscriber.DevTokenAsync(deployment.Gateway, tenant));
    }

    /// <summary>The run as GET /v1/runs/{id} reports it once its workflow closed.</summary>
    private static async Task<JsonElement> RunOfAsync(Uri gateway, string token, string runId)
    {
        using var http = new HttpClient { BaseAddress = gateway };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        JsonElement run = default;
        await Eventually.TrueAsync(async () =>
        {
            run = await http.GetFromJsonAsync<JsonElement>($"/v1/runs/{runId}");
            return run.GetProperty("status").GetString() != "running";
        }, TimeSpan.FromSeconds(60), "the run's workflow closes");
        return run;
    }

    private static async Task WithOutputAsync(DistributedDeployment deployment, Task reading)
    {
        try
        {
            await reading;
        }
        catch (Exception e) when (e is TimeoutException or OperationCanceledException)
        {
            throw new TimeoutException($"{e.Message}\nprocess output:\n{deployment.Output}", e);
        }
    }
}

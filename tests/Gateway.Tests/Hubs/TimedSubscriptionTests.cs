using System.Diagnostics.Metrics;
using System.Text.Json;
using AgentOrchestrator.Contracts;
using AgentOrchestrator.Gateway.Tests.Delivery;
using AgentOrchestrator.StackSupport;
using AgentOrchestrator.TestSupport;
using AgentOrchestrator.Workers;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;

namespace AgentOrchestrator.Gateway.Tests.Hubs;

/// <summary>
/// Per-hop stamps of the token path in one real run (gateway and worker in one process over the in-memory bus): a timed
/// subscription gets every live token delta with the points it passed, the gateway records each hop in
/// gateway.token.hop, and an ordinary subscriber of the same run gets no stamp at all.
/// </summary>
public sealed class TimedSubscriptionTests
{
    private static readonly TimeSpan RunTimeout = TimeSpan.FromMinutes(2);

    [Fact]
    public async Task SubscribeTimed_LiveRun_StampsEveryTokenPathAndRecordsTheGatewayHops()
    {
        // Model calls wait until both subscribers watch, so every delta is live for both.
        var watching = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var deployment = await InProcessDeployment.StartAsync(new InProcessDeploymentOptions
        {
            SigningKey = GatewayTestHost.SigningKey,
            // No coalescing of a backlog (soft limits at the hard ones): every delta is written to both subscribers.
            Settings = new Dictionary<string, string?>
            {
                ["Gateway:Delivery:SoftLimitEvents"] = "4096",
                ["Gateway:Delivery:SoftLimitBytes"] = (4 * 1024 * 1024).ToString(System.Globalization.CultureInfo.InvariantCulture),
            },
            ConfigureServices = services => services.AddHttpClient(ChatModelFactory.HttpClientName)
                .AddHttpMessageHandler(() => new HoldUntil(watching.Task)),
        });
        using var hops = new InstrumentRecorder<double>(deployment.Services.GetRequiredService<IMeterFactory>(), "gateway.token.hop");
        var tenant = GatewayFixture.NewTenant();
        await using var timedHub = await RunningGatewayFixture.HubAsync(deployment.Address, tenant);
        await using var plainHub = await RunningGatewayFixture.HubAsync(deployment.Address, tenant);
        var runId = await timedHub.InvokeAsync<string>("StartRun", Flows.WriterReviewer, "Stamp every hop.");

        using var timeout = new CancellationTokenSource(RunTimeout);
        var firstEvents = new[] { new TaskCompletionSource(), new TaskCompletionSource() };
        var timedReading = ReadAsync(timedHub.StreamAsync<TimedRunEvent>("SubscribeTimed", runId, null, timeout.Token), firstEvents[0]);
        var plainReading = ReadAsync(plainHub.StreamAsync<JsonElement>("Subscribe", runId, null, timeout.Token), firstEvents[1]);
        await Task.WhenAll(firstEvents.Select(f => f.Task)).WaitAsync(RunTimeout);
        watching.SetResult();
        var timed = await timedReading;
        var plain = await plainReading;

        var tokens = timed.Where(t => t.Event.Type == RunEventTypes.Token).ToList();
        Assert.NotEmpty(tokens);
        Assert.All(timed.Except(tokens), t => Assert.Empty(t.Hops));
        foreach (var token in tokens)
        {
            Assert.Equal(
                [TokenPath.WorkerReceived, TokenPath.PublishStarted, TokenPath.GatewayReceived, TokenPath.GatewayReleased, TokenPath.GatewayEnqueued, TokenPath.GatewayWritten],
                token.Hops.Select(h => h.Point));
            // One process, one clock: every point comes after the one before it, and after the model emitted the delta.
            Assert.True(token.Event.ModelEmittedAtUs <= token.Hops[0].AtUs);
            Assert.Equal(token.Hops.Select(h => h.AtUs).Order(), token.Hops.Select(h => h.AtUs));
        }
        // The ordinary subscriber's events carry exactly the event's own fields: no stamp travels to it.
        var plainTokens = plain.Where(e => e.GetProperty("type").GetString() == RunEventTypes.Token).ToList();
        Assert.Equal(tokens.Count, plainTokens.Count);
        Assert.All(plainTokens, e => Assert.DoesNotContain(e.EnumerateObject(), p => p.Name is "trace" or "hops" or "stamps"));

        // Received, released and enqueued (at the last subscriber) once per delta, written once per delta and subscriber.
        int Count(string hop) => hops.Measurements.Count(m => m.Tag("hop") == hop);
        Assert.Equal(tokens.Count, Count(TokenPath.GatewayReceived));
        Assert.Equal(tokens.Count, Count(TokenPath.GatewayReleased));
        Assert.Equal(tokens.Count, Count(TokenPath.GatewayEnqueued));
        Assert.Equal(2 * tokens.Count, Count(TokenPath.GatewayWritten));
        var written = hops.Measurements.Where(m => m.Tag("hop") == TokenPath.GatewayWritten).Select(m => m.Value).ToList();
        Assert.All(tokens, t => Assert.Contains(TokenPath.HopMs(t.Hops[4].AtUs, t.Hops[5].AtUs), written));
    }

    private static async Task<List<T>> ReadAsync<T>(IAsyncEnumerable<T> events, TaskCompletionSource first)
    {
        var read = new List<T>();
        await foreach (var item in events)
        {
            read.Add(item);
            first.TrySetResult();
        }
        return read;
    }

    /// <summary>Holds every model request until <paramref name="release"/> completes.</summary>
    private sealed class HoldUntil(Task release) : DelegatingHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            await release.WaitAsync(cancellationToken);
            return await base.SendAsync(request, cancellationToken);
        }
    }
}

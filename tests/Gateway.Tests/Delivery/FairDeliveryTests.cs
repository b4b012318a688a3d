using System.Diagnostics.Metrics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using AgentOrchestrator.Contracts;
using AgentOrchestrator.RunStreaming.Delivery;
using AgentOrchestrator.RunStreaming.Telemetry;
using AgentOrchestrator.TestSupport;
using MassTransit;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace AgentOrchestrator.Gateway.Tests.Delivery;

/// <summary>
/// A gateway with a capped outbound capacity, saturated by two tenants: A watches one chatty run from four SignalR
/// connections, B watches its own from one SSE connection. Delivered bytes split by the tenants' fairness weights (not
/// by their number of subscribers), B's stream finishes while A's backlog remains, every subscriber ends with the
/// exact transcript, and queues stay bounded. Also the latency metrics a person sees.
/// </summary>
[Collection(GatewayTestGroup.Name)]
public sealed class FairDeliveryTests(GatewayFixture fixture, ITestOutputHelper output)
{
    private const int Capacity = 160_000;
    private const int SubscribersOfA = 4;
    private const int Tokens = 40;
    private const int TokenChars = 3000;
    private const double Tolerance = 0.1;
    private static readonly TimeSpan StreamTimeout = TimeSpan.FromMinutes(3);

    [Theory]
    [InlineData(1.0)]
    [InlineData(3.0)]
    public async Task SaturatedGateway_TwoBackloggedTenants_ShareBytesByWeightAndLoseNothing(double weightOfA)
    {
        var tenantA = GatewayFixture.NewTenant();
        var tenantB = GatewayFixture.NewTenant();
        await using var host = await GatewayTestHost.StartAsync(fixture.DevServer.Target, settings: new Dictionary<string, string?>
        {
            ["Gateway:Delivery:MaxBytesPerSecond"] = Capacity.ToString(CultureInfo.InvariantCulture),
            // Room for the whole backlog without coalescing, so every delivered token event is one delta of known size.
            ["Gateway:Delivery:SoftLimitBytes"] = (2 * 1024 * 1024).ToString(CultureInfo.InvariantCulture),
            [$"Tenancy:Tenants:{tenantA}:FairnessWeight"] = weightOfA.ToString(CultureInfo.InvariantCulture),
        });
        var (runA, hubsA) = await StartRunAsync(host, tenantA, SubscribersOfA);
        var (runB, hubsB) = await StartRunAsync(host, tenantB, 1);
        await using var disposeA = new HubsDisposer(hubsA);
        await using var disposeB = new HubsDisposer(hubsB);
        using var sseB = new HttpClient { BaseAddress = host.Address, Timeout = StreamTimeout };
        sseB.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", await fixture.DevTokenAsync(tenantB));

        var arrivals = new Arrivals();
        using var timeout = new CancellationTokenSource(StreamTimeout);
        using var ready = new CountdownEvent(SubscribersOfA + 1);
        var readers = hubsA.Select(hub => ReadHubAsync(hub, runA.RunId, "A", arrivals, ready, timeout.Token)).ToList();
        readers.Add(ReadSseAsync(sseB, runB.RunId, "B", arrivals, ready, timeout.Token));
        var bus = host.Services.RunEventPublisher();
        await bus.PublishAsync(runA.Message(runA.RunStarted()));
        await bus.PublishAsync(runB.Message(runB.RunStarted()));
        await Task.Run(() => ready.Wait(timeout.Token));

        // Both runs' whole output arrives at once: from here on both tenants are backlogged.
        var (eventsA, textA) = Output(runA);
        var (eventsB, textB) = Output(runB);
        await bus.PublishAsync(runA.Message([.. eventsA]));
        await bus.PublishAsync(runB.Message([.. eventsB]));
        var transcripts = await Task.WhenAll(readers);

        Assert.All(transcripts.Take(SubscribersOfA), t => Assert.Equal("writer=" + textA, t.Render()));
        Assert.Equal("writer=" + textB, transcripts[^1].Render());

        var log = arrivals.Snapshot();
        var tokenBytesOfB = eventsB.Where(e => e.Type == RunEventTypes.Token).Sum(DeliveryCost.EstimateBytes);
        var (bytesA, bytesB) = TokenBytesWhileBPassed(log, 0.2 * tokenBytesOfB, 0.8 * tokenBytesOfB);
        var shareOfA = (double)bytesA / (bytesA + bytesB);
        var expected = weightOfA / (weightOfA + 1);
        output.WriteLine($"weights A:B {weightOfA}:1; A's share while both were backlogged {shareOfA:F3} (expected {expected:F3}); A {bytesA} B, B {bytesB} B");
        Assert.True(Math.Abs(shareOfA - expected) <= Tolerance,
            $"A's share of the bytes while both were backlogged: {shareOfA:F3} (A {bytesA} B, B {bytesB} B), expected {expected:F3} +- {Tolerance}");

        // B had its whole text while every one of A's subscribers was still receiving tokens: A's backlog did not stall B.
        var lastTokenOfB = log.FindLastIndex(a => a.Who == "B" && a.Type == RunEventTypes.Token);
        Assert.Equal(0, log.Take(lastTokenOfB).Count(a => a.Who == "A" && a.Type == RunEventTypes.StepCompleted));

        // Held back by the scheduler, each of A's subscribers queued at most its run's output (bounded, not growing).
        using var ownerA = new HttpClient { BaseAddress = host.Address };
        ownerA.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", await fixture.DevTokenAsync(tenantA));
        var listed = await ownerA.GetFromJsonAsync<JsonElement>(new Uri($"v1/runs/{runA.RunId}/subscribers", UriKind.Relative));
        var outputBytes = eventsA.Sum(e => (2L * ((e.Text?.Length ?? 0) + e.Id.Length)) + 1024);
        var subscribers = listed.GetProperty("subscribers").EnumerateArray().ToList();
        Assert.Equal(SubscribersOfA, subscribers.Count);
        Assert.All(subscribers, s => Assert.InRange(s.GetProperty("peakQueuedBytes").GetInt64(), 1, outputBytes));
        await Eventually.TrueAsync(() => host.Services.GetRequiredService<DeliveryScheduler>().InFlight == 0, because: "every grant was returned");
    }

    [Fact]
    public async Task SaturatedGateway_HeldBackSubscriber_CoalescesItsDeltasAndEndsWithTheExactTranscript()
    {
        var tenant = GatewayFixture.NewTenant();
        await using var host = await GatewayTestHost.StartAsync(fixture.DevServer.Target, settings: new Dictionary<string, string?>
        {
            ["Gateway:Delivery:MaxBytesPerSecond"] = (64 * 1024).ToString(CultureInfo.InvariantCulture),
            ["Gateway:Delivery:SoftLimitBytes"] = (16 * 1024).ToString(CultureInfo.InvariantCulture),
        });
        var (run, hubs) = await StartRunAsync(host, tenant, 1);
        await using var dispose = new HubsDisposer(hubs);
        var arrivals = new Arrivals();
        using var timeout = new CancellationTokenSource(StreamTimeout);
        using var ready = new CountdownEvent(1);
        var reader = ReadHubAsync(hubs[0], run.RunId, "A", arrivals, ready, timeout.Token);
        var bus = host.Services.RunEventPublisher();
        await bus.PublishAsync(run.Message(run.RunStarted()));
        await Task.Run(() => ready.Wait(timeout.Token));

        // 100 deltas of 1 KB at once: far more than the capacity sends in the time they take to arrive.
        var texts = Enumerable.Range(0, 100).Select(i => $"{i:D3}" + new string('x', 1021)).ToArray();
        foreach (var chunk in run.Step("writer", 1, texts).Append(run.RunCompleted()).Chunk(10))
        {
            await bus.PublishAsync(run.Message(chunk));
        }
        var transcript = await reader;

        Assert.Equal("writer=" + string.Concat(texts), transcript.Render());
        var tokenEvents = arrivals.Snapshot().Count(a => a.Type == RunEventTypes.Token);
        Assert.InRange(tokenEvents, 1, texts.Length - 1);
        using var owner = new HttpClient { BaseAddress = host.Address };
        owner.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", await fixture.DevTokenAsync(tenant));
        var listed = await owner.GetFromJsonAsync<JsonElement>(new Uri($"v1/runs/{run.RunId}/subscribers", UriKind.Relative));
        var subscriber = listed.GetProperty("subscribers").EnumerateArray().Single();
        Assert.True(subscriber.GetProperty("coalesced").GetInt64() > 0, "the held-back subscriber's deltas were merged in its queue");
    }

    [Fact]
    public async Task StartedHere_LiveSubscriber_RecordsTimeToFirstTokenAndInterTokenGapsForItsTenant()
    {
        var tenant = GatewayFixture.NewTenant();
        var firstTokens = new List<double>();
        var gaps = new List<double>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == DeliveryMetrics.MeterName && instrument.Name is "gateway.time_to_first_token" or "gateway.inter_token_latency")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag.Key == "tenant" && (string?)tag.Value == tenant)
                {
                    lock (gaps)
                    {
                        (instrument.Name == "gateway.time_to_first_token" ? firstTokens : gaps).Add(value);
                    }
                }
            }
        });
        listener.Start();
        await using var hub = await fixture.HubForAsync(tenant);
        var run = new RunScript(tenant, await hub.InvokeAsync<string>("StartRun", Flows.WriterReviewer, "how fast is the first token?"));
        var bus = fixture.Host.Services.RunEventPublisher();
        var received = new List<RunEvent>();
        var started = new TaskCompletionSource();
        using var timeout = new CancellationTokenSource(StreamTimeout);
        var reading = Task.Run(async () =>
        {
            await foreach (var runEvent in hub.StreamAsync<RunEvent>("Subscribe", run.RunId, null, timeout.Token))
            {
                lock (received)
                {
                    received.Add(runEvent);
                }
                started.TrySetResult();
            }
        });
        await bus.PublishAsync(run.Message(run.RunStarted(), run.Started("writer", 1)));
        await started.Task.WaitAsync(StreamTimeout);
        string[] texts = ["One", " two", " three", " four"];
        for (var i = 0; i < texts.Length; i++)
        {
            // One token at a time, each delivered before the next is published: four live deliveries, three gaps.
            await bus.PublishAsync(run.Message(run.Token("writer", 1, i, texts[i])));
            var id = run.Token("writer", 1, i, texts[i]).Id;
            await Eventually.TrueAsync(() =>
            {
                lock (received)
                {
                    return received.Exists(e => e.Id == id);
                }
            }, because: $"token {i} delivered");
        }
        await bus.PublishAsync(run.Message(run.Completed("writer", 1, texts.Length, string.Concat(texts)), run.RunCompleted()));
        await reading;

        lock (gaps)
        {
            Assert.Single(firstTokens);
            Assert.True(firstTokens[0] >= 0);
            Assert.Equal(texts.Length - 1, gaps.Count);
            Assert.All(gaps, g => Assert.True(g >= 0));
        }
        // A late subscriber replays the tokens: it waited for nothing, so nothing more is recorded.
        await foreach (var _ in hub.StreamAsync<RunEvent>("Subscribe", run.RunId, null, timeout.Token))
        {
        }
        lock (gaps)
        {
            Assert.Single(firstTokens);
            Assert.Equal(texts.Length - 1, gaps.Count);
        }
    }

    private async Task<(RunScript Run, List<HubConnection> Hubs)> StartRunAsync(GatewayTestHost host, string tenant, int connections)
    {
        var token = await fixture.DevTokenAsync(tenant);
        var hubs = new List<HubConnection>();
        for (var i = 0; i < connections; i++)
        {
            var hub = new HubConnectionBuilder()
                .WithUrl(new Uri(host.Address, "hubs/runs"), o => o.AccessTokenProvider = () => Task.FromResult<string?>(token))
                .Build();
            await hub.StartAsync();
            hubs.Add(hub);
        }
        return (new RunScript(tenant, await hubs[0].InvokeAsync<string>("StartRun", Flows.WriterReviewer, "fair share")), hubs);
    }

    private static (List<RunEvent> Events, string Text) Output(RunScript run)
    {
        var texts = Enumerable.Range(0, Tokens).Select(i => $"{run.Tenant}:{i:D3}:" + new string((char)('a' + (i % 26)), TokenChars)).ToArray();
        return ([.. run.Step("writer", 1, texts), run.RunCompleted()], string.Concat(texts));
    }

    /// <summary>Token bytes each tenant received from when B had received <paramref name="from"/> token bytes until it had <paramref name="to"/>.</summary>
    private static (long A, long B) TokenBytesWhileBPassed(List<Arrival> log, double from, double to)
    {
        long a = 0, b = 0, bTokens = 0;
        foreach (var arrival in log.Where(x => x.Type == RunEventTypes.Token))
        {
            var inWindow = bTokens >= from;
            if (arrival.Who == "B")
            {
                bTokens += arrival.Bytes;
            }
            if (bTokens >= to)
            {
                break;
            }
            if (inWindow)
            {
                _ = arrival.Who == "A" ? a += arrival.Bytes : b += arrival.Bytes;
            }
        }
        return (a, b);
    }

    private static Task<ClientTranscript> ReadHubAsync(HubConnection hub, string runId, string who, Arrivals arrivals, CountdownEvent ready,
        CancellationToken cancellationToken) => Task.Run(async () =>
    {
        var transcript = new ClientTranscript();
        await foreach (var runEvent in hub.StreamAsync<RunEvent>("Subscribe", runId, null, cancellationToken))
        {
            Received(runEvent, who, transcript, arrivals, ready);
        }
        return transcript;
    }, cancellationToken);

    private static Task<ClientTranscript> ReadSseAsync(HttpClient http, string runId, string who, Arrivals arrivals, CountdownEvent ready,
        CancellationToken cancellationToken) => Task.Run(async () =>
    {
        var transcript = new ClientTranscript();
        using var response = await http.GetAsync(new Uri($"v1/runs/{runId}/events", UriKind.Relative), HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        response.EnsureSuccessStatusCode();
        await foreach (var message in SseReader.ReadAsync(await response.Content.ReadAsStreamAsync(cancellationToken), cancellationToken))
        {
            Received(message.RunEvent, who, transcript, arrivals, ready);
        }
        return transcript;
    }, cancellationToken);

    private static void Received(RunEvent runEvent, string who, ClientTranscript transcript, Arrivals arrivals, CountdownEvent ready)
    {
        transcript.Apply(runEvent);
        arrivals.Add(new Arrival(who, runEvent.Type, DeliveryCost.EstimateBytes(runEvent)));
        if (runEvent.Type == RunEventTypes.RunStarted)
        {
            ready.Signal();
        }
    }

    private sealed record Arrival(string Who, string Type, long Bytes);

    /// <summary>Every subscriber's events in the order they reached this process.</summary>
    private sealed class Arrivals
    {
        private readonly List<Arrival> _log = [];

        public void Add(Arrival arrival)
        {
            lock (_log)
            {
                _log.Add(arrival);
            }
        }

        public List<Arrival> Snapshot()
        {
            lock (_log)
            {
                return [.. _log];
            }
        }
    }

    private sealed class HubsDisposer(List<HubConnection> hubs) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            foreach (var hub in hubs)
            {
                await hub.DisposeAsync();
            }
        }
    }
}

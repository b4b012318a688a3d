using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using AgentOrchestrator.Contracts;
using AgentOrchestrator.TestSupport;
using Xunit.Abstractions;

namespace AgentOrchestrator.EndToEnd.Tests;

/// <summary>
/// Reconnect storm: 2,000 SignalR subscribers of one live run, split across two gateway processes, all lose their
/// connection at the same moment and resume with their cursors (each on the other gateway). Every one of them must
/// end with the exact transcript.
/// </summary>
public sealed class ReconnectStormTests(RabbitMqFixture rabbit, ITestOutputHelper output) : IClassFixture<RabbitMqFixture>
{
    private const int Clients = 2000;

    [Fact]
    public async Task Subscribers_AllDropAtOnceAndReconnect_EveryTranscriptExact()
    {
        // 4 tokens/s: the run lasts long enough (tens of seconds) for every client to subscribe before the storm.
        await using var deployment = await DistributedDeployment.StartAsync(rabbit.Uri,
            new Dictionary<string, string> { ["ModelSimulator__TokensPerSecond"] = "4" }, gateways: 2);
        const string tenant = "tenant-storm";
        await using var client = await RunClient.ConnectAsync(deployment.Gateway, tenant);
        var token = await ResumingSubscriber.DevTokenAsync(deployment.Gateway, tenant);
        var runId = await client.StartRunAsync(Flows.WriterReviewer, "Explain why durable workflows help AI agents.");

        var subscribers = Enumerable.Range(0, Clients)
            .Select(i => new ResumingSubscriber(deployment.Gateways, token, runId, firstGateway: i % 2))
            .ToList();
        var reading = subscribers.Select(s => s.RunAsync(TimeSpan.FromMinutes(5))).ToList();
        var connecting = Stopwatch.StartNew();
        await Eventually.TrueAsync(() => subscribers.All(s => s.Received > 0), TimeSpan.FromMinutes(2),
            "every client subscribed and received an event");
        output.WriteLine($"{Clients} clients subscribed in {connecting.Elapsed.TotalSeconds:F1} s");
        Assert.True(subscribers.All(s => s.Terminal is null), "the run ended before the storm: slow the model down");

        var storm = Stopwatch.StartNew();
        foreach (var subscriber in subscribers)
        {
            subscriber.AbortTransport();
        }
        await Eventually.TrueAsync(() => subscribers.All(s => s.Connections >= 2 || s.Terminal is not null), TimeSpan.FromMinutes(2),
            "every client reconnected");
        output.WriteLine($"{Clients} clients reconnected in {storm.Elapsed.TotalSeconds:F1} s");
        try
        {
            await Task.WhenAll(reading);
        }
        catch (Exception e) when (e is TimeoutException or OperationCanceledException)
        {
            throw new TimeoutException($"{e.Message}\nprocess output:\n{deployment.Output}", e);
        }

        var run = await RunOfAsync(deployment.Gateway, token, runId);
        Assert.All(subscribers, s => Assert.True(s.Connections >= 2, "a client never reconnected"));
        foreach (var subscriber in subscribers)
        {
            TranscriptAssertions.Exact(subscriber, run, "reconnect storm");
        }
    }

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
}

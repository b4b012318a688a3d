using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using AgentOrchestrator.Contracts;
using AgentOrchestrator.TestSupport;

namespace AgentOrchestrator.EndToEnd.Tests;

/// <summary>
/// The broker restarted mid-run (rabbitmqctl stop_app / start_app on a private node, never the shared broker): the
/// worker keeps appending to the run's log while its live sends fail, the gateways' live routing reconnects and reads
/// what it missed from the log, the gateway is not ready while it is cut off, and the subscriber's transcript is exact.
/// </summary>
public sealed class BrokerRestartTests
{
    [Fact]
    public async Task Run_BrokerRestartedMidStream_PublishersAndConsumersReconnectAndTranscriptExact()
    {
        await using var broker = await PrivateRabbitMqNode.StartAsync();
        await using var deployment = await DistributedDeployment.StartAsync(broker.Uri,
            new Dictionary<string, string> { ["ModelSimulator__TokensPerSecond"] = "20" }, gateways: 2);
        const string tenant = "tenant-broker-restart";
        await using var client = await RunClient.ConnectAsync(deployment.Gateway, tenant);
        var runId = await client.StartRunAsync(Flows.WriterReviewer, "Explain why durable workflows help AI agents.");
        var token = await ResumingSubscriber.DevTokenAsync(deployment.Gateway, tenant);
        var midStream = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var subscriber = new ResumingSubscriber(deployment.Gateways, token, runId)
        {
            OnEvent = (_, e) =>
            {
                if (e is { Type: RunEventTypes.Token, Step: "writer", Index: >= 5 })
                {
                    midStream.TrySetResult();
                }
            },
        };
        var reading = subscriber.RunAsync(TimeSpan.FromMinutes(4));
        await midStream.Task.WaitAsync(TimeSpan.FromMinutes(3));

        await broker.StopAppAsync();
        using var http = new HttpClient { BaseAddress = deployment.Gateway };
        await Eventually.TrueAsync(async () => !await ReadyAsync(http), TimeSpan.FromSeconds(60), "the gateway reports not ready while the broker is down");
        await broker.StartAppAsync();
        await Eventually.TrueAsync(() => ReadyAsync(http), TimeSpan.FromSeconds(120), "the gateway reconnects its live routing and is ready again");
        try
        {
            await reading;
        }
        catch (Exception e) when (e is TimeoutException or OperationCanceledException)
        {
            throw new TimeoutException($"{e.Message}\nprocess output:\n{deployment.Output}", e);
        }

        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        var run = await http.GetFromJsonAsync<JsonElement>($"/v1/runs/{runId}");
        await Eventually.TrueAsync(async () =>
        {
            run = await http.GetFromJsonAsync<JsonElement>($"/v1/runs/{runId}");
            return run.GetProperty("status").GetString() != "running";
        }, TimeSpan.FromSeconds(60), "the run's workflow closes");
        TranscriptAssertions.Exact(subscriber, run, "broker restarted mid-run");
    }

    private static async Task<bool> ReadyAsync(HttpClient http)
    {
        using var response = await http.GetAsync(new Uri("/readyz", UriKind.Relative));
        return response.IsSuccessStatusCode;
    }
}

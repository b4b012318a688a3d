using AgentOrchestrator.Contracts;
using AgentOrchestrator.TestSupport;

namespace AgentOrchestrator.EndToEnd.Tests.Telemetry;

/// <summary>
/// Gateway and worker as separate processes over RabbitMQ, each scraped at its own /metrics: the gateway measures
/// tokens that crossed the broker and its run-event stream, the worker its model calls.
/// </summary>
public sealed class DistributedMetricsTests(RabbitMqFixture rabbit) : IClassFixture<RabbitMqFixture>
{
    [Fact]
    public async Task Metrics_AfterRunOverRabbitMq_GatewayAndWorkerProcessesEachServeTheirSeries()
    {
        await using var deployment = await DistributedDeployment.StartAsync(rabbit.Uri);
        var tenant = "tenant-metrics-" + Guid.NewGuid().ToString("N")[..8];
        await using var client = await RunClient.ConnectAsync(deployment.Gateway, tenant);

        var runId = await client.StartRunAsync(Flows.WriterReviewer, "Explain why an operator needs metrics.");
        var events = await client.ReadAllEventsAsync(runId, TimeSpan.FromMinutes(3));
        Assert.Equal(RunEventTypes.RunCompleted, events[^1].Type);

        var gateway = await PrometheusScrape.ReadAsync(deployment.Gateway);
        var worker = await PrometheusScrape.ReadAsync(deployment.Worker);
        var context = $"gateway:\n{gateway.Text}\nworker:\n{worker.Text}\n{deployment.Output}";
        var tokens = events.Count(e => e.Type == RunEventTypes.Token);
        Assert.True(gateway.Sum("gateway_connections", ("tenant", tenant)) >= 1, context);
        Assert.True(gateway.Sum("gateway_token_latency_milliseconds_count", ("tenant", tenant)) >= tokens, context);
        Assert.True(gateway.Sum("bus_consume_lag_milliseconds_count", ("transport", "rabbitmq")) >= 1, context);
        Assert.True(gateway.Sum("run_events_live_received_total") >= 1, context);
        Assert.True(gateway.Sum("gateway_events_delivered_total", ("transport", "signalr")) >= events.Count, context);
        // The worker's model metrics are on the worker's endpoint, not the gateway's.
        Assert.Equal(2, worker.Sum("worker_model_call_duration_milliseconds_count", ("tenant", tenant), ("model", "sim-1"), ("outcome", "ok")));
        Assert.True(worker.Sum("worker_model_tokens_total", ("tenant", tenant), ("model", "sim-1"), ("kind", "completion")) > 0, context);
        Assert.Empty(gateway.Find("worker_model_call_duration_milliseconds_count"));
        Assert.Empty(worker.Find("gateway_token_latency_milliseconds_count"));
    }
}

using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using AgentOrchestrator.Contracts;
using AgentOrchestrator.TestSupport;

namespace AgentOrchestrator.EndToEnd.Tests.Tracing;

/// <summary>
/// One run's trace across processes: gateway and worker (separate processes, RabbitMQ between them) export OTLP over
/// HTTP/protobuf to a stand-in collector; the spans each exported must form one trace with correct parents across the
/// process boundaries (Temporal headers gateway -> worker, message headers worker -> the live receive of the gateway
/// that watches the run).
/// </summary>
public sealed class DistributedTraceTests(RabbitMqFixture rabbit) : IClassFixture<RabbitMqFixture>, IAsyncLifetime
{
    private const string GatewayService = "AgentOrchestrator.Gateway";
    private const string WorkerService = "AgentOrchestrator.Workers";
    private const string RunEventPath = "AgentOrchestrator.RunStreaming";
    private OtlpTraceReceiver? _collector;
    private DistributedDeployment? _deployment;

    public async Task InitializeAsync()
    {
        _collector = OtlpTraceReceiver.Start();
        _deployment = await DistributedDeployment.StartAsync(rabbit.Uri, new DistributedDeploymentOptions
        {
            Environment = new Dictionary<string, string>
            {
                ["Telemetry__Tracing__Exporter"] = "Otlp",
                ["Telemetry__Tracing__OtlpEndpoint"] = _collector.Address.ToString(),
                ["Telemetry__Tracing__OtlpProtocol"] = "http/protobuf",
                // Export batches every 200 ms instead of every 5 s, so the test waits less.
                ["OTEL_BSP_SCHEDULE_DELAY"] = "200",
            },
            // The run lasts seconds: the test watches it (a gateway receives live only the runs it watches) long before it ends.
            SimulatorEnvironment = new Dictionary<string, string> { ["ModelSimulator__TimeToFirstToken"] = "00:00:02" },
        });
    }

    public async Task DisposeAsync()
    {
        if (_deployment is not null)
        {
            await _deployment.DisposeAsync();
        }
        if (_collector is not null)
        {
            await _collector.DisposeAsync();
        }
    }

    [Fact]
    public async Task RestStart_GatewayAndWorkerProcessesExportOneTraceLinkedAcrossTemporalAndTheBus()
    {
        var deployment = _deployment!;
        var collector = _collector!;
        var traceId = ActivityTraceId.CreateRandom().ToHexString();
        var callerSpan = ActivitySpanId.CreateRandom().ToHexString();
        using var http = new HttpClient { BaseAddress = deployment.Gateway };
        using (var token = await http.PostAsJsonAsync("/v1/dev/tokens", new { tenant = "tenant-traced", subject = "e2e" }))
        {
            token.EnsureSuccessStatusCode();
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer",
                (await token.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString());
        }
        using var start = new HttpRequestMessage(HttpMethod.Post, "/v1/runs") { Content = JsonContent.Create(new { flow = Flows.WriterReviewer, input = "Trace me across processes." }) };
        start.Headers.Add("traceparent", $"00-{traceId}-{callerSpan}-01");
        using var started = await http.SendAsync(start);
        Assert.Equal(HttpStatusCode.Created, started.StatusCode);
        var runId = (await started.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("runId").GetString();
        using (var watched = await http.GetAsync(new Uri($"/v1/runs/{runId}/events", UriKind.Relative), HttpCompletionOption.ResponseHeadersRead))
        {
            watched.EnsureSuccessStatusCode();
            await (await watched.Content.ReadAsStreamAsync()).CopyToAsync(Stream.Null); // ends after the terminal event
        }
        await Eventually.TrueAsync(async () =>
            (await http.GetFromJsonAsync<JsonElement>($"/v1/runs/{runId}")).GetProperty("status").GetString() != "running",
            TimeSpan.FromMinutes(2), "the run ends");

        var missing = "nothing yet";
        try
        {
            await Eventually.TrueAsync(() => (missing = Missing(collector.Spans.Where(s => s.TraceId == traceId).ToList(), callerSpan)).Length == 0,
                TimeSpan.FromMinutes(1));
        }
        catch (TimeoutException)
        {
            Assert.Fail($"the run's trace {traceId} as exported by both processes lacks {missing}. Exported:\n{string.Join("\n", collector.Spans.Where(s => s.TraceId == traceId))}");
        }
        Assert.Empty(collector.Errors);
    }

    private static string Missing(List<ExportedSpan> trace, string callerSpan)
    {
        var request = trace.FirstOrDefault(s => s.Service == GatewayService && s.Kind == ExportedSpan.Server && s.ParentSpanId == callerSpan);
        if (request is null)
        {
            return "the gateway's request span, child of the caller";
        }
        var workflowStart = trace.FirstOrDefault(s => s.Service == GatewayService && s.Name == "StartWorkflow:" + Flows.WriterReviewer && s.ParentSpanId == request.SpanId);
        if (workflowStart is null)
        {
            return "the gateway's StartWorkflow span under the request";
        }
        var activities = trace.Where(s => s.Service == WorkerService && s.Name.StartsWith("RunActivity:", StringComparison.Ordinal) && s.ParentSpanId == workflowStart.SpanId).ToList();
        if (activities.Count == 0)
        {
            return "the worker's RunActivity spans under StartWorkflow";
        }
        var activityIds = activities.Select(a => a.SpanId).ToHashSet();
        var publishes = trace.Where(s => s.Service == WorkerService && s.Kind == ExportedSpan.Producer && s.Scope == RunEventPath && activityIds.Contains(s.ParentSpanId)).ToList();
        if (publishes.Count == 0)
        {
            return "the worker's run-events publish spans under a RunActivity span";
        }
        var publishIds = publishes.Select(p => p.SpanId).ToHashSet();
        var received = trace.Any(s => s.Service == GatewayService && s.Kind == ExportedSpan.Consumer && s.Scope == RunEventPath && publishIds.Contains(s.ParentSpanId));
        return received ? string.Empty : "the gateway's run-events receive span under a worker publish";
    }
}

using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using AgentOrchestrator.Contracts;
using AgentOrchestrator.Gateway.Tests.Delivery;
using AgentOrchestrator.ServiceDefaults.Telemetry;
using AgentOrchestrator.StackSupport;
using AgentOrchestrator.TestSupport;
using AgentOrchestrator.Workers;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using Temporalio.Client;

namespace AgentOrchestrator.Gateway.Tests.Tracing;

/// <summary>
/// One trace per run, through real parts in one process (as the embedded host composes them): the gateway on Kestrel,
/// the Temporal client and worker against the dev server, activities calling the model simulator, run events through
/// the in-process run-event path (log, then live) back to the gateway. Spans are read with an ActivityListener, as an exporter would.
/// </summary>
public sealed class RunTraceTests : IAsyncLifetime, IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(2);
    private readonly SpanCollector _spans = new();
    private InProcessDeployment? _deployment;
    private TemporalClient? _temporal;
    private readonly RequestGate _model = new();
    private Uri _address = null!;

    public async Task InitializeAsync()
    {
        _deployment = await InProcessDeployment.StartAsync(new InProcessDeploymentOptions
        {
            SigningKey = GatewayTestHost.SigningKey,
            // The test's listener is the exporter here.
            Settings = new Dictionary<string, string?> { ["Telemetry:Tracing:Exporter"] = "None" },
            // The model answers only once the test watches the run: a gateway receives live only the runs it watches.
            ConfigureServices = services => services.AddHttpClient(ChatModelFactory.HttpClientName).AddHttpMessageHandler(_model.CreateHandler),
        });
        _temporal = await _deployment.DevServer.ConnectClientAsync();
        _address = _deployment.Address;
    }

    public async Task DisposeAsync()
    {
        if (_deployment is not null)
        {
            await _deployment.DisposeAsync();
        }
    }

    public void Dispose() => _spans.Dispose();

    [Fact]
    public async Task RestStart_CallerTraceContinuesThroughWorkflowStartActivitiesPublishAndGatewayConsume()
    {
        var tenant = GatewayFixture.NewTenant();
        using var http = new HttpClient { BaseAddress = _address };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", await RunningGatewayFixture.DevTokenAsync(_address, tenant));
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/runs")
        {
            Content = new StringContent(JsonSerializer.Serialize(new { flow = Flows.WriterReviewer, input = "Trace this run." }), Encoding.UTF8, "application/json"),
        };
        // The caller is traced: HttpClient sends its context (traceparent), which the gateway's request span continues.
        // (Set as the ambient activity rather than a hand-written header: other hosts in this test process may
        // instrument HttpClient, which then sends its own span's context, still in the caller's trace.)
        ActivityTraceId traceId;
        HttpResponseMessage response;
        using (var caller = new Activity("test caller").SetIdFormat(ActivityIdFormat.W3C).Start())
        {
            caller.ActivityTraceFlags = ActivityTraceFlags.Recorded;
            traceId = caller.TraceId;
            response = await http.SendAsync(request);
        }
        using var created = response;
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var body = await created.Content.ReadFromJsonAsync<JsonElement>();
        var runId = body.GetProperty("runId").GetString()!;
        // The response names the trace, so an operator can look the run up in the tracing backend.
        Assert.Equal(traceId.ToHexString(), body.GetProperty("traceId").GetString());
        var watching = await WatchAsync(tenant, runId);
        _model.Open();

        var trace = await WaitForRunTraceAsync(traceId, tenant, runId);
        await watching;

        var requestSpan = Assert.Single(trace.Spans, s => s.SpanId == trace.Start.ParentSpanId);
        Assert.Equal("Microsoft.AspNetCore", requestSpan.Source.Name);
        Assert.Equal(ActivityKind.Server, requestSpan.Kind);
        Assert.True(requestSpan.HasRemoteParent);
    }

    [Fact]
    public async Task HubStartRun_EachRunIsItsOwnTraceRootedAtTheHubInvocation()
    {
        var tenant = GatewayFixture.NewTenant();
        await using var hub = await RunningGatewayFixture.HubAsync(_address, tenant);
        var first = await hub.InvokeAsync<string>("StartRun", Flows.WriterReviewer, "First traced run.");
        var second = await hub.InvokeAsync<string>("StartRun", Flows.WriterReviewer, "Second traced run.");
        var watching = Task.WhenAll(await WatchAsync(tenant, first), await WatchAsync(tenant, second));
        _model.Open();

        var traces = new List<RunTrace>();
        foreach (var runId in new[] { first, second })
        {
            var start = await WaitForSpanAsync(s => s.OperationName == "StartWorkflow:" + Flows.WriterReviewer
                && Equals(s.GetTagItem("temporalWorkflowID"), RunWorkflowIds.For(tenant, runId)), $"the workflow start of run {runId}");
            var trace = await WaitForRunTraceAsync(start.TraceId, tenant, runId);
            var invocation = Assert.Single(trace.Spans, s => s.SpanId == trace.Start.ParentSpanId);
            Assert.Equal("Microsoft.AspNetCore.SignalR.Server", invocation.Source.Name);
            Assert.True(invocation.DisplayName.EndsWith("/StartRun", StringComparison.Ordinal), Describe([invocation]));
            // A root: not a child of the long-lived connection, which would fold every run of a connection into one trace.
            Assert.Equal(default, invocation.ParentSpanId);
            traces.Add(trace);
        }
        Assert.NotEqual(traces[0].Start.TraceId, traces[1].Start.TraceId);
        await watching;
    }

    /// <summary>Subscribes to the run over SSE (returns once the stream is open) and reads it to its end in the background.</summary>
    private async Task<Task> WatchAsync(string tenant, string runId)
    {
        var http = new HttpClient { BaseAddress = _address, Timeout = Timeout };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", await RunningGatewayFixture.DevTokenAsync(_address, tenant));
        var response = await http.GetAsync(new Uri($"v1/runs/{runId}/events", UriKind.Relative), HttpCompletionOption.ResponseHeadersRead);
        response.EnsureSuccessStatusCode();
        return ReadToEndAsync(http, response);

        static async Task ReadToEndAsync(HttpClient http, HttpResponseMessage response)
        {
            using (http)
            using (response)
            {
                await (await response.Content.ReadAsStreamAsync()).CopyToAsync(Stream.Null);
            }
        }
    }

    /// <summary>
    /// Waits until the run ended and its trace holds, all with correct parents: the workflow-start span; a
    /// RunActivity span (child of the start) for every activity type in the run's Temporal history; run-events publish
    /// spans under those activity spans; and the gateway's receive of those publishes.
    /// </summary>
    private async Task<RunTrace> WaitForRunTraceAsync(ActivityTraceId traceId, string tenant, string runId)
    {
        var handle = _temporal!.GetWorkflowHandle(RunWorkflowIds.For(tenant, runId));
        using (var timeout = new CancellationTokenSource(Timeout))
        {
            await handle.GetResultAsync(rpcOptions: new RpcOptions { CancellationToken = timeout.Token });
        }
        var activityTypes = (await handle.FetchHistoryAsync()).Events
            .Where(e => e.ActivityTaskScheduledEventAttributes is not null)
            .Select(e => e.ActivityTaskScheduledEventAttributes.ActivityType.Name)
            .Distinct(StringComparer.Ordinal)
            .ToList();
        Assert.NotEmpty(activityTypes);

        IReadOnlyList<Activity> spans = [];
        Activity? start = null;
        var missing = "nothing yet";
        try
        {
            await Eventually.TrueAsync(() =>
            {
                spans = _spans.InTrace(traceId);
                start = spans.SingleOrDefault(s => s.OperationName == "StartWorkflow:" + Flows.WriterReviewer && s.Kind == ActivityKind.Client);
                missing = Missing(spans, start, activityTypes);
                return missing.Length == 0;
            }, Timeout);
        }
        catch (TimeoutException)
        {
            var ours = _spans.All.Where(s => Equals(s.GetTagItem("temporalWorkflowID"), RunWorkflowIds.For(tenant, runId))).ToList();
            Assert.Fail($"run {runId}'s trace {traceId} is incomplete; missing {missing}. Spans:\n{Describe(spans)}\nThe run's spans in any trace:\n{Describe(ours)} {string.Join(",", ours.Select(o => o.TraceId))}; all: {_spans.All.Count}");
        }
        return new RunTrace(start!, spans);
    }

    /// <summary>What the run's trace still lacks, or "" when complete.</summary>
    private static string Missing(IReadOnlyList<Activity> spans, Activity? start, List<string> activityTypes)
    {
        if (start is null)
        {
            return "the StartWorkflow span";
        }
        var byId = spans.ToDictionary(s => s.SpanId);
        var runActivities = spans.Where(s => s.Source.Name == TemporalTracing.SourceName && s.Kind == ActivityKind.Server).ToList();
        foreach (var type in activityTypes)
        {
            if (!runActivities.Any(s => s.OperationName == "RunActivity:" + type && s.ParentSpanId == start.SpanId))
            {
                return $"a RunActivity:{type} span whose parent is the StartWorkflow span";
            }
        }
        var publishes = spans.Where(s => s.Source.Name == RunEventPathSource && s.Kind == ActivityKind.Producer
            && Ancestors(s, byId).Any(a => runActivities.Contains(a))).ToList();
        if (publishes.Count == 0)
        {
            return "a run-events publish span under a RunActivity span";
        }
        var received = spans.Any(s => s.Source.Name == RunEventPathSource && s.Kind == ActivityKind.Consumer
            && Ancestors(s, byId).Any(a => publishes.Contains(a)));
        return received ? string.Empty : "the gateway's run-events receive span under a publish span";
    }

    private const string RunEventPathSource = "AgentOrchestrator.RunStreaming";

    private static string Describe(IEnumerable<Activity> spans) => string.Join("\n", spans.Select(s =>
        $"{s.Source.Name} {s.Kind} '{s.OperationName}' {s.SpanId} <- {s.ParentSpanId} [{string.Join(", ", s.TagObjects.Select(t => $"{t.Key}={t.Value}"))}]"));

    private static IEnumerable<Activity> Ancestors(Activity span, Dictionary<ActivitySpanId, Activity> byId)
    {
        var current = span;
        while (current.ParentSpanId != default && byId.TryGetValue(current.ParentSpanId, out var parent))
        {
            yield return parent;
            current = parent;
        }
    }

    private async Task<Activity> WaitForSpanAsync(Func<Activity, bool> match, string what)
    {
        Activity? found = null;
        await Eventually.TrueAsync(() => (found = _spans.All.FirstOrDefault(match)) is not null, Timeout, what);
        return found!;
    }

    private sealed record RunTrace(Activity Start, IReadOnlyList<Activity> Spans);
}

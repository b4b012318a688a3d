using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AgentOrchestrator.Contracts;
using AgentOrchestrator.TestSupport;
using Temporalio.Activities;
using Temporalio.Api.Common.V1;
using Temporalio.Api.History.V1;
using Temporalio.Api.WorkflowService.V1;
using Temporalio.Client;
using Temporalio.Worker;

namespace AgentOrchestrator.Gateway.Tests.Runs;

/// <summary>The activity of <see cref="DispatchProbe"/>: the dispatch order, one tenant id per run.</summary>
public sealed class DispatchRecorder
{
    private readonly ConcurrentQueue<string> _order = new();

    public IReadOnlyList<string> Order => [.. _order];

    [Activity]
    public void Record(string tenant) => _order.Enqueue(tenant);
}

/// <summary>
/// The whole path: tenant plan (Tenancy configuration) -> Temporal Priority set by the gateway on a REST start ->
/// dispatch by the dev server to a real SDK worker. Each test has its own dev server: every run is started before a
/// worker polls, so the whole backlog is queued when a worker limited to one workflow task and one activity at a time
/// starts draining it.
/// </summary>
public sealed class TenantDispatchPriorityTests : IAsyncLifetime
{
    private const int RunsPerTenant = 30;

    private readonly DevServerFixture _devServer = new();

    public Task InitializeAsync() => _devServer.InitializeAsync();

    public Task DisposeAsync() => _devServer.DisposeAsync();

    [Fact]
    public async Task StartRun_WeightsThreeToOne_DispatchedAboutThreeToOneWhileBothBacklogged()
    {
        var heavy = GatewayFixture.NewTenant();
        var light = GatewayFixture.NewTenant();
        await using var host = await StartGatewayAsync(new Dictionary<string, string?>
        {
            [$"Tenancy:Tenants:{heavy}:FairnessWeight"] = "3",
            [$"Tenancy:Tenants:{light}:FairnessWeight"] = "1",
        });
        // Interleaved starts: first-come-first-served dispatch would give 1:1.
        var starts = Enumerable.Range(0, RunsPerTenant).SelectMany(_ => new[] { heavy, light });

        var order = await StartThenDrainAsync(host, starts);

        // Both tenants are backlogged until the first of them has had its last run dispatched; after that the other
        // one is alone and takes every dispatch.
        var window = order.Take(Math.Min(order.LastIndexOf(heavy), order.LastIndexOf(light)) + 1).ToList();
        var ratio = (double)window.Count(t => t == heavy) / window.Count(t => t == light);
        // Stride scheduling gives exactly 3:1 over a standing backlog (30 heavy : 10 light here). The slack covers the
        // edges: the first activities are dispatched while the activity backlog is still forming (the one-slot
        // worker turns workflow tasks into activities one at a time), and the window ends on a dispatch boundary.
        Assert.True(ratio is >= 2.2 and <= 4.0,
            $"heavy:light = {ratio:F2} over the first {window.Count} dispatches; order: {string.Join(' ', order.Select(t => t == heavy ? 'H' : 'L'))}");
    }

    [Fact]
    public async Task StartRun_PriorityOneAndFive_PriorityOneTenantDispatchedFirst()
    {
        var urgent = GatewayFixture.NewTenant();
        var batch = GatewayFixture.NewTenant();
        await using var host = await StartGatewayAsync(new Dictionary<string, string?>
        {
            [$"Tenancy:Tenants:{urgent}:Priority"] = "1",
            [$"Tenancy:Tenants:{batch}:Priority"] = "5",
        });
        // The batch tenant's runs are queued first: first-come-first-served would dispatch them first.
        var starts = Enumerable.Repeat(batch, 10).Concat(Enumerable.Repeat(urgent, 10));

        var order = await StartThenDrainAsync(host, starts);

        Assert.Equal(Enumerable.Repeat(urgent, 10).Concat(Enumerable.Repeat(batch, 10)), order);
    }

    [Fact]
    public async Task StartRunAndThread_TenantPlan_WorkflowStartedWithPlanPriority()
    {
        var tenant = GatewayFixture.NewTenant();
        var unconfigured = GatewayFixture.NewTenant();
        await using var host = await StartGatewayAsync(new Dictionary<string, string?>
        {
            [$"Tenancy:Tenants:{tenant}:Plan"] = "pro",
            ["Tenancy:Plans:pro:Priority"] = "2",
            ["Tenancy:Plans:pro:FairnessWeight"] = "2.5",
        });
        var temporal = await _devServer.ConnectClientAsync();
        using var client = await ClientForAsync(host, tenant);
        using var other = await ClientForAsync(host, unconfigured);

        var runId = await CreatedIdAsync(await client.PostAsJsonAsync("v1/runs", new { flow = DispatchProbe.Name, input = "x" }), "runId");
        var threadId = await CreatedIdAsync(await client.PostAsync(new Uri("v1/threads", UriKind.Relative), content: null), "threadId");
        var defaultRunId = await CreatedIdAsync(await other.PostAsJsonAsync("v1/runs", new { flow = DispatchProbe.Name, input = "x" }), "runId");

        foreach (var id in new[] { runId, threadId })
        {
            var priority = await StartedPriorityAsync(temporal, tenant, id);
            Assert.Equal((2, tenant, 2.5f), (priority.PriorityKey, priority.FairnessKey, priority.FairnessWeight));
        }
        var defaults = await StartedPriorityAsync(temporal, unconfigured, defaultRunId);
        Assert.Equal((3, unconfigured, 1f), (defaults.PriorityKey, defaults.FairnessKey, defaults.FairnessWeight));
        // Describe reports it too, as a real Temporal server does.
        var described = await temporal.WorkflowService.DescribeWorkflowExecutionAsync(new DescribeWorkflowExecutionRequest
        {
            Namespace = _devServer.Namespace,
            Execution = new Temporalio.Api.Common.V1.WorkflowExecution { WorkflowId = RunWorkflowIds.For(tenant, runId) },
        });
        Assert.Equal(2, described.WorkflowExecutionInfo.Priority.PriorityKey);
    }

    private Task<GatewayTestHost> StartGatewayAsync(Dictionary<string, string?> settings)
    {
        settings["Gateway:Flows:0"] = DispatchProbe.Name;
        return GatewayTestHost.StartAsync(_devServer.Target, settings: settings);
    }

    /// <summary>Starts one run per entry (the entry is its tenant) over REST, then drains them with a one-slot worker.</summary>
    private async Task<List<string>> StartThenDrainAsync(GatewayTestHost host, IEnumerable<string> tenants)
    {
        var clients = new Dictionary<string, HttpClient>(StringComparer.Ordinal);
        var started = 0;
        try
        {
            foreach (var tenant in tenants)
            {
                if (!clients.TryGetValue(tenant, out var client))
                {
                    clients[tenant] = client = await ClientForAsync(host, tenant);
                }
                await CreatedIdAsync(await client.PostAsJsonAsync("v1/runs", new { flow = DispatchProbe.Name, input = "probe" }), "runId");
                started++;
            }
        }
        finally
        {
            foreach (var client in clients.Values)
            {
                client.Dispose();
            }
        }

        var recorder = new DispatchRecorder();
        var temporal = await _devServer.ConnectClientAsync();
        using var worker = new TemporalWorker(temporal, new TemporalWorkerOptions(TaskQueues.Agents)
        {
            MaxConcurrentWorkflowTasks = 1,
            MaxConcurrentActivities = 1,
        }.AddWorkflow<DispatchProbe>().AddAllActivities(recorder));
        using var stop = new CancellationTokenSource();
        var running = worker.ExecuteAsync(stop.Token);
        try
        {
            await Eventually.TrueAsync(() => recorder.Order.Count == started, TimeSpan.FromSeconds(120),
                $"the worker runs all {started} activities");
        }
        finally
        {
            await stop.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => running);
        }
        return [.. recorder.Order];
    }

    private static async Task<Priority> StartedPriorityAsync(TemporalClient temporal, string tenant, string runId)
    {
        var history = await temporal.GetWorkflowHandle(RunWorkflowIds.For(tenant, runId)).FetchHistoryAsync();
        HistoryEvent started = history.Events.First();
        return started.WorkflowExecutionStartedEventAttributes.Priority;
    }

    private static async Task<string> CreatedIdAsync(HttpResponseMessage response, string property)
    {
        using (response)
        {
            Assert.True(response.StatusCode == HttpStatusCode.Created, $"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
            return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty(property).GetString()!;
        }
    }

    private static Task<HttpClient> ClientForAsync(GatewayTestHost host, string tenant) => DevTokens.ClientAsync(host.Address, tenant, "tester");
}

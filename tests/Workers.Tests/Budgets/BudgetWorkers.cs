using System.Net.Http.Json;
using AgentOrchestrator.Contracts;
using AgentOrchestrator.Messaging;
using AgentOrchestrator.ModelSimulator;
using AgentOrchestrator.RunStreaming.Live;
using AgentOrchestrator.ServiceDefaults;
using AgentOrchestrator.Tenancy;
using AgentOrchestrator.Tenancy.Budgets;
using AgentOrchestrator.TestSupport;
using AgentOrchestrator.Workflows;
using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Temporalio.Client;
using Temporalio.Extensions.Hosting;

namespace AgentOrchestrator.Workers.Tests.Budgets;

/// <summary>
/// One or more agent worker hosts (each its own DI container, bus, budget and Temporal worker, identity
/// "budget-worker-N") sharing a DevServer, an instant model simulator and, when asked, a Redis server as the budget
/// store. Tenant limits come from configuration; the runtime override store is in-process, so the test depends on
/// nothing but the budget being shared through Redis.
/// </summary>
public sealed class BudgetWorkers : IAsyncDisposable
{
    private readonly DevServerFixture _devServer = new();
    private readonly List<IHost> _hosts = [];
    private ModelSimulatorServer? _simulator;

    public TemporalClient Client { get; private set; } = null!;

    public RunEventRecorder Events { get; } = new();

    public HttpClient SimulatorHttp { get; private set; } = null!;

    public RedisServer? Redis { get; private set; }

    public IReadOnlyList<IHost> Hosts => _hosts;

    /// <param name="settings">Configuration of every worker (Tenancy:*, Model:*).</param>
    /// <param name="modelHandler">Wraps the model HttpClient of every worker (e.g. to inject simulator faults).</param>
    public static async Task<BudgetWorkers> StartAsync(int workers, IReadOnlyDictionary<string, string?> settings, bool redis,
        Func<DelegatingHandler>? modelHandler = null)
    {
        var cluster = new BudgetWorkers();
        try
        {
            await cluster._devServer.InitializeAsync();
            cluster._simulator = await ModelSimulatorServer.StartAsync(o => o.Instant = true);
            cluster.SimulatorHttp = new HttpClient { BaseAddress = cluster._simulator.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
            if (redis)
            {
                cluster.Redis = await RedisServer.StartAsync();
            }
            for (int i = 1; i <= workers; i++)
            {
                IHost host = cluster.BuildHost(i, settings, modelHandler);
                cluster._hosts.Add(host);
                await host.StartAsync();
            }
            cluster.Client = await cluster._devServer.ConnectClientAsync();
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    private IHost BuildHost(int number, IReadOnlyDictionary<string, string?> settings, Func<DelegatingHandler>? modelHandler)
    {
        HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { EnvironmentName = "Development" });
        var configuration = new Dictionary<string, string?>
        {
            ["Temporal:Target"] = _devServer.Target,
            ["Temporal:Namespace"] = _devServer.Namespace,
            ["Model:Endpoint"] = new Uri(_simulator!.BaseAddress, "v1").ToString(),
            ["Model:DefaultModel"] = "sim-1",
            ["Worker:HeartbeatInterval"] = "00:00:00.200",
            ["Serilog:MinimumLevel:Default"] = "Warning",
        };
        if (Redis is not null)
        {
            configuration["Tenancy:Store"] = nameof(TenancyStore.Redis);
            configuration["Tenancy:Redis"] = Redis.Configuration;
        }
        foreach ((string key, string? value) in settings)
        {
            configuration[key] = value;
        }
        builder.Configuration.AddInMemoryCollection(configuration);
        builder.AddServiceDefaults();
        builder.Services.AddSingleton(Events);
        // Policy overrides stay in-process: these tests are about the budget store, and take limits from configuration.
        builder.Services.AddSingleton<ITenantPolicyStore, InMemoryTenantPolicyStore>();
        builder.Services.AddSingleton<IRunEventLivePublisher>(new RecordingLivePublisher(Events));
        builder.Services.AddMessageBus(builder.Configuration);
        builder.Services.AddAgentWorker(builder.Configuration).ConfigureOptions(o => o.Identity = WorkerIdentity(number));
        if (modelHandler is not null)
        {
            builder.Services.AddHttpClient(ChatModelFactory.HttpClientName).AddHttpMessageHandler(modelHandler);
        }
        return builder.Build();
    }

    public static string WorkerIdentity(int number) => $"budget-worker-{number}";

    public ModelBudget BudgetOf(int worker) => _hosts[worker - 1].Services.GetRequiredService<ModelBudget>();

    public async Task<WorkflowHandle<WriterReviewerWorkflow, string>> StartRunAsync(string tenantId, string input)
    {
        string runId = Guid.NewGuid().ToString("n");
        return await Client.StartWorkflowAsync(
            (WriterReviewerWorkflow wf) => wf.RunAsync(new RunInput { RunId = runId, TenantId = tenantId, Flow = Flows.WriterReviewer, Input = input }),
            new WorkflowOptions(RunWorkflowIds.For(tenantId, runId), TaskQueues.Agents));
    }

    public static string RunIdOf(WorkflowHandle handle) => handle.Id[(handle.Id.LastIndexOf('/') + 1)..];

    public async Task<ModelSimulatorStats> SimulatorStatsAsync() =>
        await SimulatorHttp.GetFromJsonAsync<ModelSimulatorStats>("v1/sim/stats") ?? throw new InvalidOperationException("No stats.");

    public async ValueTask DisposeAsync()
    {
        foreach (IHost host in _hosts)
        {
            await host.StopAsync();
            host.Dispose();
        }
        SimulatorHttp?.Dispose();
        if (_simulator is not null)
        {
            await _simulator.DisposeAsync();
        }
        if (Redis is not null)
        {
            await Redis.DisposeAsync();
        }
        await _devServer.DisposeAsync();
    }
}

using System.Net.Http.Json;
using AgentOrchestrator.Contracts;
using AgentOrchestrator.Messaging;
using AgentOrchestrator.ModelSimulator;
using AgentOrchestrator.RunStreaming.Live;
using AgentOrchestrator.ServiceDefaults;
using AgentOrchestrator.TestSupport;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Temporalio.Client;
using Temporalio.Extensions.Hosting;

namespace AgentOrchestrator.Workers.Tests;

/// <summary>
/// Real parts for a test class: a DevServer, a model simulator, and a worker host (its run events recorded as they go
/// out live, AddAgentWorker pointed at both), plus a Temporal client.
/// </summary>
public abstract class AgentWorkerFixture : IAsyncLifetime
{
    private readonly DevServerFixture _devServer = new();
    private ModelSimulatorServer? _simulator;
    private IHost? _host;

    public ModelSimulatorServer Simulator => _simulator ?? throw new InvalidOperationException("Not started.");

    public TemporalClient Client { get; private set; } = null!;

    public RunEventRecorder Events { get; } = new();

    /// <summary>The worker host's services (e.g. its meters).</summary>
    public IServiceProvider Services => _host?.Services ?? throw new InvalidOperationException("Not started.");

    public HttpClient SimulatorHttp { get; private set; } = null!;

    protected virtual bool InstantModel => true;

    protected virtual string DefaultModel => "sim-1";

    protected virtual void ConfigureWorkerServices(IServiceCollection services)
    {
    }

    /// <summary>More workflows or activities on the agent worker (e.g. test flows).</summary>
    protected virtual void ConfigureWorker(ITemporalWorkerServiceOptionsBuilder worker)
    {
    }

    public async Task InitializeAsync()
    {
        await _devServer.InitializeAsync();
        _simulator = await ModelSimulatorServer.StartAsync(o => o.Instant = InstantModel);
        SimulatorHttp = new HttpClient { BaseAddress = _simulator.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };

        HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { EnvironmentName = "Development" });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Temporal:Target"] = _devServer.Target,
            ["Temporal:Namespace"] = _devServer.Namespace,
            ["Model:Endpoint"] = new Uri(_simulator.BaseAddress, "v1").ToString(),
            ["Model:DefaultModel"] = DefaultModel,
            ["Worker:HeartbeatInterval"] = "00:00:00.200",
            ["Serilog:MinimumLevel:Default"] = "Warning",
        });
        builder.AddServiceDefaults();
        builder.Services.AddSingleton(Events);
        // Registered before the worker's own (which it keeps: TryAdd): what the worker publishes is recorded.
        builder.Services.AddSingleton<IRunEventLivePublisher>(new RecordingLivePublisher(Events));
        builder.Services.AddMessageBus(builder.Configuration);
        ConfigureWorker(builder.Services.AddAgentWorker(builder.Configuration));
        ConfigureWorkerServices(builder.Services);
        _host = builder.Build();
        await _host.StartAsync();
        Client = await _devServer.ConnectClientAsync();
    }

    public async Task<WorkflowHandle<Workflows.WriterReviewerWorkflow, string>> StartRunAsync(string tenantId, string input)
    {
        string runId = Guid.NewGuid().ToString("n");
        return await Client.StartWorkflowAsync(
            (Workflows.WriterReviewerWorkflow wf) => wf.RunAsync(new RunInput
            {
                RunId = runId,
                TenantId = tenantId,
                Flow = Flows.WriterReviewer,
                Input = input,
            }),
            new WorkflowOptions(RunWorkflowIds.For(tenantId, runId), TaskQueues.Agents));
    }

    /// <summary>Starts any flow (workflow type) on the agents task queue, as the gateway does.</summary>
    public async Task<WorkflowHandle> StartFlowAsync(string workflowType, string tenantId, string input, string? flow = null)
    {
        string runId = Guid.NewGuid().ToString("n");
        var runInput = new RunInput { RunId = runId, TenantId = tenantId, Flow = flow ?? workflowType, Input = input };
        return await Client.StartWorkflowAsync(workflowType, [runInput], new WorkflowOptions(RunWorkflowIds.For(tenantId, runId), TaskQueues.Agents));
    }

    public async Task<ModelSimulatorStats> SimulatorStatsAsync() =>
        await SimulatorHttp.GetFromJsonAsync<ModelSimulatorStats>("v1/sim/stats")
        ?? throw new InvalidOperationException("No stats.");

    public async Task DisposeAsync()
    {
        if (_host is not null)
        {
            await _host.StopAsync();
            _host.Dispose();
        }
        SimulatorHttp?.Dispose();
        if (_simulator is not null)
        {
            await _simulator.DisposeAsync();
        }
        await _devServer.DisposeAsync();
    }
}

/// <summary>An instant model: runs finish fast and every token arrives at once.</summary>
public sealed class InstantModelWorkerFixture : AgentWorkerFixture;

/// <summary>
/// The simulator's default pacing, slowed further per token, so a run is still streaming when the test cancels it.
/// </summary>
public sealed class SlowModelWorkerFixture : AgentWorkerFixture
{
    protected override bool InstantModel => false;

    protected override string DefaultModel => "sim-1@trickle:100";
}

/// <summary>The first model request of the process gets the simulator's cut:3 fault (via its fault header).</summary>
public sealed class CutFirstStreamWorkerFixture : AgentWorkerFixture
{
    private readonly FirstRequestFault _fault = new("cut:3");

    protected override void ConfigureWorkerServices(IServiceCollection services) =>
        services.AddHttpClient(ChatModelFactory.HttpClientName).AddHttpMessageHandler(_fault.CreateHandler);
}

/// <summary>Every model request carries an unknown fault spec, which the simulator rejects with a 400.</summary>
public sealed class RejectingModelWorkerFixture : AgentWorkerFixture
{
    protected override string DefaultModel => "sim-1@no-such-fault";
}

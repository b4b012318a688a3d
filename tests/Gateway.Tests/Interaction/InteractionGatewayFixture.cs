using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Text.Json;
using AgentOrchestrator.Contracts;
using AgentOrchestrator.TestSupport;
using AgentOrchestrator.Workflows;
using Microsoft.AspNetCore.SignalR.Client;
using Temporalio.Activities;
using Temporalio.Client;
using Temporalio.Worker;
using Temporalio.Workflows;

namespace AgentOrchestrator.Gateway.Tests.Interaction;

/// <summary>
/// An own dev server, a gateway (threads roll over every 2 turns) and an in-test worker on the agents task queue
/// running the real chat-thread workflow, an approval flow built on HumanInput, and small activities.
/// </summary>
public sealed class InteractionGatewayFixture : IAsyncLifetime, IDisposable
{
    public const int TurnsPerRun = 2;

    private readonly CancellationTokenSource _stopWorker = new();
    private GatewayTestHost? _host;
    private TemporalWorker? _worker;
    private Task? _workerRun;

    public DevServerFixture DevServer { get; } = new();

    public TemporalClient Temporal { get; private set; } = null!;

    public InteractionActivities Activities { get; } = new();

    public Uri Gateway => _host?.Address ?? throw new InvalidOperationException("not started");

    public async Task InitializeAsync()
    {
        await DevServer.InitializeAsync();
        Temporal = await DevServer.ConnectClientAsync();
        _host = await GatewayTestHost.StartAsync(DevServer.Target,
            settings: new Dictionary<string, string?> { ["Gateway:Threads:TurnsPerRun"] = TurnsPerRun.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        _worker = new TemporalWorker(Temporal, new TemporalWorkerOptions(TaskQueues.Agents)
            .AddAllActivities(Activities).AddWorkflow<InteractionApprovalWorkflow>().AddWorkflow<ChatThreadWorkflow>());
        _workerRun = _worker.ExecuteAsync(_stopWorker.Token);
    }

    public async Task DisposeAsync()
    {
        await _stopWorker.CancelAsync();
        if (_workerRun is not null)
        {
            try
            {
                await _workerRun;
            }
            catch (OperationCanceledException)
            {
                // Stopped.
            }
        }
        if (_host is not null)
        {
            await _host.DisposeAsync();
        }
        await DevServer.DisposeAsync();
    }

    public void Dispose()
    {
        _worker?.Dispose();
        _stopWorker.Dispose();
    }

    /// <summary>Starts the approval flow for a tenant, as the gateway would (tenant-scoped workflow id); returns the run id.</summary>
    public async Task<(string RunId, WorkflowHandle Handle)> StartApprovalAsync(string tenant)
    {
        string runId = Guid.NewGuid().ToString("n");
        WorkflowHandle handle = await Temporal.StartWorkflowAsync((InteractionApprovalWorkflow wf) => wf.RunAsync(),
            new WorkflowOptions(RunWorkflowIds.For(tenant, runId), TaskQueues.Agents));
        await Eventually.TrueAsync(() => Activities.Requested.ContainsKey(runId), because: "the approval flow asks for input");
        return (runId, handle);
    }

    public async Task<HttpClient> ClientForAsync(string tenant)
    {
        var client = new HttpClient { BaseAddress = Gateway };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", await DevTokenAsync(tenant));
        return client;
    }

    public async Task<HubConnection> HubForAsync(string tenant)
    {
        var token = await DevTokenAsync(tenant);
        var connection = new HubConnectionBuilder()
            .WithUrl(new Uri(Gateway, "hubs/runs"), options => options.AccessTokenProvider = () => Task.FromResult<string?>(token))
            .Build();
        await connection.StartAsync();
        return connection;
    }

    private Task<string> DevTokenAsync(string tenant) => DevTokens.IssueAsync(Gateway, tenant, "tester");
}

/// <summary>A flow with one human step: asks for an approval (schema: {approved: boolean}) and returns the answer.</summary>
[Workflow("interaction-approval")]
public sealed class InteractionApprovalWorkflow
{
    public const string RequestId = "approval";

    public static JsonElement Schema { get; } = JsonDocument.Parse("""
        {"type": "object", "properties": {"approved": {"type": "boolean"}}, "required": ["approved"]}
        """).RootElement.Clone();

    [WorkflowRun]
    public async Task<string> RunAsync()
    {
        HumanInputAnswer answer = await HumanInput.RequestAsync(RequestId, "Approve?", Schema);
        return answer.Answer.GetRawText();
    }
}

/// <summary>In-test activities under the worker's names: records input requests; a turn answers with the user messages it was given.</summary>
public sealed class InteractionActivities
{
    public ConcurrentDictionary<string, RunLifecycleEvent> Requested { get; } = new();

    [Activity(AgentActivityNames.PublishRunEvent)]
    public void PublishRunEvent(RunLifecycleEvent lifecycle)
    {
        if (lifecycle.Type == RunEventTypes.InputRequested)
        {
            Requested[lifecycle.RunId] = lifecycle;
        }
    }

    [Activity(AgentActivityNames.RunAgentStep)]
    public AgentStepResult RunAgentStep(AgentStepInput input) => new()
    {
        Text = $"{input.Step} heard '{input.Prompt}' after [{string.Join(" | ", (input.History ?? []).Where(m => m.Role == ConversationRoles.User).Select(m => m.Text))}]",
    };
}

using AgentOrchestrator.Contracts;
using AgentOrchestrator.RunStreaming;
using AgentOrchestrator.ServiceDefaults.Telemetry;
using AgentOrchestrator.Tenancy.Budgets;
using AgentOrchestrator.Workers.Budgets;
using AgentOrchestrator.Workers.Telemetry;
using AgentOrchestrator.Workers.Tools;
using AgentOrchestrator.Workflows;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Microsoft.SemanticKernel.ChatCompletion;
using Temporalio.Extensions.Hosting;

namespace AgentOrchestrator.Workers;

/// <summary>Registers the agent worker: <c>AddAgentWorker</c>.</summary>
public static class AgentWorkerServiceCollectionExtensions
{
    /// <summary>
    /// The agent worker: options ("Model", "Worker", "Worker:TokenBatching", "Temporal"), the Semantic Kernel chat
    /// service for the configured model endpoint, the agent and run-event activities, and a hosted Temporal worker
    /// on <see cref="TaskQueues.Agents"/> running the flows' workflows. The message bus is not added here: the host
    /// calls Messaging's AddMessageBus once for all its parts. Returns the Temporal worker's builder for
    /// follow-up configuration (more activities or workflows, worker options).
    /// </summary>
    public static ITemporalWorkerServiceOptionsBuilder AddAgentWorker(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);

        services.AddOptions<ModelOptions>().BindConfiguration(ModelOptions.SectionName)
            .Validate(o => o.Endpoint is { IsAbsoluteUri: true }, "Model:Endpoint must be an absolute URL.")
            .Validate(o => !string.IsNullOrWhiteSpace(o.DefaultModel), "Model:DefaultModel is required.")
            .ValidateOnStart();
        services.AddOptions<TokenBatchingOptions>().BindConfiguration(TokenBatchingOptions.SectionName)
            .Validate(o => o.MaxChars > 0, "Worker:TokenBatching:MaxChars must be positive.")
            .Validate(o => o.FlushInterval >= TimeSpan.Zero, "Worker:TokenBatching:FlushInterval must not be negative.")
            .Validate(o => o.MaxPublishesInFlight > 0, "Worker:TokenBatching:MaxPublishesInFlight must be positive.")
            .Validate(o => o.MinInterval >= TimeSpan.Zero, "Worker:TokenBatching:MinInterval must not be negative.")
            .ValidateOnStart();
        services.AddOptions<AgentWorkerOptions>().BindConfiguration(AgentWorkerOptions.SectionName)
            .Validate(o => o.HeartbeatInterval > TimeSpan.Zero, "Worker:HeartbeatInterval must be positive.")
            // A step whose heartbeats come seldom relative to its timeout is taken for dead while it streams.
            .Validate(o => o.HeartbeatInterval <= AgentActivityOptions.HeartbeatTimeout / 4,
                $"Worker:HeartbeatInterval must be at most a quarter of the steps' heartbeat timeout ({AgentActivityOptions.HeartbeatTimeout.TotalSeconds} s, AgentActivityOptions.HeartbeatTimeout).")
            .ValidateOnStart();
        services.AddOptions<TemporalOptions>().BindConfiguration(TemporalOptions.SectionName)
            .Validate(o => !string.IsNullOrWhiteSpace(o.Target), "Temporal:Target is required.")
            .Validate(o => !string.IsNullOrWhiteSpace(o.Namespace), "Temporal:Namespace is required.")
            .ValidateOnStart();

        services.TryAddSingleton(TimeProvider.System);
        // Streams last as long as the model talks: the activity's timeouts and cancellation bound a call, not HttpClient.
        services.AddHttpClient(ChatModelFactory.HttpClientName, client => client.Timeout = Timeout.InfiniteTimeSpan);
        services.TryAddSingleton<ChatModelFactory>();
        // Every model call draws from its tenant's budget (docs/tenancy.md "Budgets").
        services.AddTenantModelBudgets(configuration);
        services.TryAddSingleton<ModelCallGuard>();
        services.TryAddSingleton<ModelStepLifecycle>();
        services.TryAddSingleton<IChatCompletionService>(provider => provider.GetRequiredService<ChatModelFactory>().Create(model: null));
        services.AddAgentToolbox();
        services.AddHostedService<AgentWorkerStartupLog>();
        services.AddWorkerReadiness(configuration);
        // Before the Temporal worker's hosted service (registered below): the log's connection and the live publisher are
        // open before any activity publishes.
        services.AddRunEventPublishing(configuration);

        // The hosted worker is keyed by target, namespace and task queue at registration, so those are read now.
        TemporalOptions temporal = configuration.GetSection(TemporalOptions.SectionName).Get<TemporalOptions>() ?? new TemporalOptions();
        AgentWorkerOptions worker = configuration.GetSection(AgentWorkerOptions.SectionName).Get<AgentWorkerOptions>() ?? new AgentWorkerOptions();
        bool tracing = WorkflowTaskTracing(worker, configuration);
        return services
            .AddHostedTemporalWorker(temporal.Target, temporal.Namespace, TaskQueues.Agents)
            .ConfigureOptions(o => o.MaxHeartbeatThrottleInterval = worker.HeartbeatInterval)
            .ConfigureOptions(o => o.DisableWorkflowTracingEventListener = !tracing)
            .AddWorkerMetrics()
            .ConfigureOptions(o => o.Interceptors = TemporalTracingWorkerInterceptor.PrependTo(o.Interceptors))
            .AddScopedActivities<AgentActivities>()
            .AddScopedActivities<RunEventActivities>()
            .AddScopedActivities<ModelTurnActivities>()
            .AddScopedActivities<ToolCallActivities>()
            .AddWorkflow<WriterReviewerWorkflow>()
            .AddWorkflow<ResearchTeamWorkflow>()
            .AddWorkflow<SupportTriageWorkflow>()
            .AddWorkflow<ChatThreadWorkflow>();
    }

    // The host's environment is in its configuration under "environment" (host builders put it there).
    private static bool WorkflowTaskTracing(AgentWorkerOptions worker, IConfiguration configuration) =>
        worker.WorkflowTaskTracing ?? string.Equals(configuration[HostDefaults.EnvironmentKey], Environments.Development, StringComparison.OrdinalIgnoreCase);

    /// <summary>Says at start-up which model endpoint and which Temporal the worker uses: never chosen silently.</summary>
    private sealed class AgentWorkerStartupLog(
        IOptions<ModelOptions> model,
        IOptions<TemporalOptions> temporal,
        IOptions<AgentWorkerOptions> worker,
        IOptions<TokenBatchingOptions> batching,
        IConfiguration configuration,
        ILogger<AgentWorkerStartupLog> logger) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            ModelOptions m = model.Value;
            // Scheme, host, port and path only: never credentials that a URL might carry.
            string endpoint = $"{m.Endpoint.Scheme}://{m.Endpoint.Host}:{m.Endpoint.Port}{m.Endpoint.AbsolutePath}";
            WorkerLog.ModelEndpoint(logger, m.Provider, endpoint, m.DefaultModel);
            string tracing = (WorkflowTaskTracing(worker.Value, configuration) ? "on" : "off") + (worker.Value.WorkflowTaskTracing is null ? " (by environment)" : " (Worker:WorkflowTaskTracing)");
            WorkerLog.TemporalWorker(logger, temporal.Value.Target, temporal.Value.Namespace, TaskQueues.Agents, worker.Value.HeartbeatInterval, tracing);
            WorkerLog.TokenBatching(logger, batching.Value.MinInterval, batching.Value.MaxChars, batching.Value.FlushInterval, batching.Value.MaxPublishesInFlight);
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}

using AgentOrchestrator.Messaging;
using AgentOrchestrator.RunStreaming.Live;
using AgentOrchestrator.RunStreaming.Log;
using AgentOrchestrator.RunStreaming.Ordering;
using AgentOrchestrator.RunStreaming.Publishing;
using AgentOrchestrator.RunStreaming.Telemetry;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AgentOrchestrator.RunStreaming;

/// <summary>
/// Wiring of the run-event path's two ends: publishing (workers) and the feed (gateways). The log store comes from
/// "RunEvents:Log:Store" (InMemory or Redis), the live routing from "Bus:Transport" (in process, or RabbitMQ); both
/// choices are logged at start. A RabbitMQ deployment needs the shared (Redis) log: start-up fails otherwise.
/// </summary>
public static partial class RunEventPathServiceCollectionExtensions
{
    /// <summary>What a worker needs to publish run events: the log and the live publisher (started before anything publishes).</summary>
    public static IServiceCollection AddRunEventPublishing(this IServiceCollection services, IConfiguration configuration)
    {
        AddRunEventLog(services, configuration);
        if (TransportOf(configuration) == BusTransport.RabbitMq)
        {
            services.AddOptions<RunEventLiveOptions>().BindConfiguration(RunEventLiveOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
            services.TryAddSingleton<RabbitMqRunEventLivePublisher>();
            services.TryAddSingleton<IRunEventLivePublisher>(provider => provider.GetRequiredService<RabbitMqRunEventLivePublisher>());
            services.AddHostedService(provider => provider.GetRequiredService<RabbitMqRunEventLivePublisher>());
        }
        else
        {
            AddInMemoryLiveBus(services);
            services.TryAddSingleton<IRunEventLivePublisher>(provider => provider.GetRequiredService<InMemoryRunEventLiveBus>());
        }
        services.TryAddSingleton(provider => new RunEventPublisher(provider.GetRequiredService<IRunEventLog>(), provider.GetRequiredService<IRunEventLivePublisher>()));
        return services;
    }

    /// <summary>
    /// What a gateway needs to receive run events: the log, the live source for the runs its subscribers watch, and the
    /// feed that folds both into each run's canonical tail; plus the "run-events" readiness check.
    /// </summary>
    internal static IServiceCollection AddRunEventFeed(this IServiceCollection services, IConfiguration configuration)
    {
        AddRunEventLog(services, configuration);
        if (TransportOf(configuration) == BusTransport.RabbitMq)
        {
            services.AddOptions<RunEventLiveOptions>().BindConfiguration(RunEventLiveOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
            services.TryAddSingleton<RabbitMqRunEventLiveSource>();
            services.TryAddSingleton<IRunEventLiveSource>(provider => provider.GetRequiredService<RabbitMqRunEventLiveSource>());
            services.AddHostedService(provider => provider.GetRequiredService<RabbitMqRunEventLiveSource>());
        }
        else
        {
            AddInMemoryLiveBus(services);
            services.TryAddSingleton<IRunEventLiveSource>(provider => provider.GetRequiredService<InMemoryRunEventLiveBus>());
        }
        services.TryAddSingleton<RunEventFeed>();
        services.TryAddSingleton<IRunEventFeed>(provider => provider.GetRequiredService<RunEventFeed>());
        services.AddHostedService(provider => provider.GetRequiredService<RunEventFeed>());
        services.AddHealthChecks().AddCheck<RunEventLiveHealthCheck>("run-events-live", tags: ["ready"]);
        return services;
    }

    private static void AddRunEventLog(IServiceCollection services, IConfiguration configuration)
    {
        if (services.Any(d => d.ServiceType == typeof(IRunEventLog)))
        {
            return;
        }
        services.AddMetrics();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<RunEventPathMetrics>();
        // The transport and broker ("Bus"), also for a host that publishes run events without a MassTransit bus.
        services.AddOptions<MessageBusOptions>().BindConfiguration(MessageBusOptions.SectionName);
        var transport = TransportOf(configuration);
        services.AddOptions<RunEventLogOptions>().BindConfiguration(RunEventLogOptions.SectionName).ValidateDataAnnotations()
            .Validate(o => o.Store != RunEventLogStore.Redis || !string.IsNullOrWhiteSpace(o.Redis),
                "RunEvents:Log:Redis (a StackExchange.Redis configuration such as 127.0.0.1:6379) is required when RunEvents:Log:Store is Redis.")
            .Validate(o => transport != BusTransport.RabbitMq || o.Store == RunEventLogStore.Redis,
                "Bus:Transport=RabbitMq runs workers and gateways in separate processes: they must share the run-event log. Set RunEvents:Log:Store=Redis and RunEvents:Log:Redis.")
            .ValidateOnStart();
        var store = configuration.GetSection(RunEventLogOptions.SectionName).Get<RunEventLogOptions>()?.Store ?? RunEventLogStore.InMemory;
        if (store == RunEventLogStore.Redis)
        {
            // Opened with the host (before the Temporal worker's hosted service, registered after this): appends never wait for it.
            services.TryAddSingleton<RunEventLogRedis>();
            services.AddHostedService(provider => provider.GetRequiredService<RunEventLogRedis>());
            services.TryAddSingleton<IRunEventLog, RedisRunEventLog>();
            services.AddHealthChecks().AddCheck<RunEventLogHealthCheck>("run-event-log", tags: ["ready"]);
        }
        else
        {
            services.TryAddSingleton<IRunEventLog, InMemoryRunEventLog>();
        }
        services.AddHostedService<RunEventPathLogger>();
    }

    private static void AddInMemoryLiveBus(IServiceCollection services)
    {
        if (services.Any(d => d.ServiceType == typeof(InMemoryRunEventLiveBus)))
        {
            return; // a host running workers and the gateway together shares one
        }
        services.AddSingleton<InMemoryRunEventLiveBus>();
        services.AddHostedService(provider => provider.GetRequiredService<InMemoryRunEventLiveBus>());
    }

    private static BusTransport TransportOf(IConfiguration configuration) =>
        configuration.GetSection(MessageBusOptions.SectionName).Get<MessageBusOptions>()?.Transport ?? BusTransport.InMemory;

    /// <summary>Says at start where run events are kept and how they travel: never chosen silently.</summary>
    private sealed partial class RunEventPathLogger(IOptions<RunEventLogOptions> log, IOptions<MessageBusOptions> bus, ILogger<RunEventPathLogger> logger)
        : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            var store = log.Value.Store == RunEventLogStore.Redis ? "Redis " + log.Value.Redis
                : log.Value.JournalPath is { Length: > 0 } journal ? "in memory, journaled to " + journal : "in memory (this process only)";
            var live = bus.Value.Transport == BusTransport.RabbitMq ? "RabbitMQ, routed per run" : "in process";
            PathChosen(logger, store, log.Value.Retention, live);
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        [LoggerMessage(Level = LogLevel.Information, Message = "Run events: log {Store} (kept {Retention} after a run's last event), live delivery {Live}")]
        private static partial void PathChosen(ILogger logger, string store, TimeSpan retention, string live);
    }
}

/// <summary>
/// A gateway is ready when live entries can reach it (and, through "run-event-log", its log answers): nothing needs
/// warming, so a gateway that starts is ready as soon as it is connected, whatever the cluster's traffic.
/// </summary>
internal sealed class RunEventLiveHealthCheck(IRunEventLiveSource live) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(live.IsConnected
            ? HealthCheckResult.Healthy()
            : HealthCheckResult.Unhealthy("The live run-event routing (RabbitMQ) is not connected."));
}

/// <summary>The shared run-event log (Redis) answers: workers cannot publish and gateways cannot replay without it.</summary>
internal sealed class RunEventLogHealthCheck(RunEventLogRedis redis) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            return await redis.PingAsync().WaitAsync(TimeSpan.FromSeconds(2), cancellationToken).ConfigureAwait(false)
                ? HealthCheckResult.Healthy()
                : HealthCheckResult.Unhealthy("The run-event log (Redis) is not connected.");
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return HealthCheckResult.Unhealthy("The run-event log (Redis) does not answer: " + e.Message);
        }
    }
}

using AgentOrchestrator.ServiceDefaults.Health;
using Temporalio.Client;

namespace AgentOrchestrator.Workers;

internal static class WorkerReadiness
{
    /// <summary>
    /// /readyz of the worker: Temporal reachable (check "worker-temporal", over a lazily connecting client of its own:
    /// the hosted worker's connection is not exposed) and the bus connected (MassTransit's own "ready" check).
    /// </summary>
    public static IServiceCollection AddWorkerReadiness(this IServiceCollection services, IConfiguration configuration)
    {
        TemporalOptions temporal = configuration.GetSection(TemporalOptions.SectionName).Get<TemporalOptions>() ?? new TemporalOptions();
        services.AddSingleton(provider => new WorkerTemporalProbe(TemporalClient.CreateLazy(new TemporalClientConnectOptions(temporal.Target)
        {
            Namespace = temporal.Namespace,
            LoggerFactory = provider.GetRequiredService<ILoggerFactory>(),
        })));
        services.AddHealthChecks().AddTemporalReadiness("worker-temporal", provider => provider.GetRequiredService<WorkerTemporalProbe>().Client);
        return services;
    }

    /// <summary>The readiness check's Temporal client, kept apart from any client the host registers for other uses.</summary>
    private sealed record WorkerTemporalProbe(ITemporalClient Client);
}

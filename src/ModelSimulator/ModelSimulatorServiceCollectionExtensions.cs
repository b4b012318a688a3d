using AgentOrchestrator.ModelSimulator.Endpoints;
using AgentOrchestrator.ModelSimulator.Faults;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace AgentOrchestrator.ModelSimulator;

/// <summary>Registers the model simulator in any ASP.NET Core host.</summary>
public static class ModelSimulatorServiceCollectionExtensions
{
    /// <summary>
    /// Adds the simulator's services and binds <see cref="ModelSimulatorOptions"/> to the <c>ModelSimulator</c>
    /// configuration section; <paramref name="configure"/> runs after binding. Map the endpoints with
    /// <see cref="ModelSimulatorEndpointRouteBuilderExtensions.MapModelSimulator"/>.
    /// </summary>
    public static IServiceCollection AddModelSimulator(
        this IServiceCollection services, Action<ModelSimulatorOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddOptions<ModelSimulatorOptions>()
            .BindConfiguration(ModelSimulatorOptions.SectionName)
            .ValidateOnStart();
        if (configure is not null)
        {
            services.Configure(configure);
        }

        services.TryAddEnumerable(
            ServiceDescriptor.Singleton<IValidateOptions<ModelSimulatorOptions>, ModelSimulatorOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<ModelSimulatorMetrics>();
        services.TryAddSingleton<FailFirstTracker>();
        services.TryAddSingleton<ChatCompletionsHandler>();
        return services;
    }
}

using AgentOrchestrator.Gateway.Threads;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace AgentOrchestrator.Gateway.Runs;

/// <summary>Wiring of run control (cancel, human input) and chat threads; AddRunGateway and MapRunGateway call these.</summary>
public static class RunInteractionExtensions
{
    /// <summary>Run control and thread services, and <see cref="ThreadOptions"/> ("Gateway:Threads").</summary>
    public static IServiceCollection AddRunInteraction(this IServiceCollection services)
    {
        services.AddOptions<ThreadOptions>().BindConfiguration(ThreadOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.TryAddSingleton<RunControlService>();
        services.TryAddSingleton<ThreadService>();
        return services;
    }

    /// <summary>POST /v1/runs/{runId}/cancel, POST /v1/runs/{runId}/input, POST /v1/threads, POST /v1/threads/{id}/messages.</summary>
    public static IEndpointRouteBuilder MapRunInteraction(this IEndpointRouteBuilder endpoints, string authorizationPolicy)
    {
        endpoints.MapRunControlEndpoints(authorizationPolicy);
        endpoints.MapThreadEndpoints(authorizationPolicy);
        return endpoints;
    }
}

using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;

namespace AgentOrchestrator.Gateway.WebSockets;

/// <summary>The plain WebSocket subscriber endpoint beside the hub: wiring and mapping.</summary>
internal static class RunWebSocketEndpoints
{
    public static IServiceCollection AddRunWebSockets(this IServiceCollection services)
    {
        services.AddOptions<RunWebSocketOptions>().BindConfiguration(RunWebSocketOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.TryAddSingleton<RunWebSocketKeepAlive>();
        services.AddHostedService(provider => provider.GetRequiredService<RunWebSocketKeepAlive>());
        services.TryAddSingleton<RunWebSocketEndpoint>();
        return services;
    }

    /// <summary>
    /// GET /v1/ws behind the gateway's authorization policy. The WebSocket middleware sits inside the endpoint (as
    /// SignalR does), without its per-socket keep-alive timer: <see cref="RunWebSocketKeepAlive"/> serves all sockets.
    /// </summary>
    public static IEndpointConventionBuilder MapRunWebSockets(this IEndpointRouteBuilder endpoints, string authorizationPolicy)
    {
        var endpoint = endpoints.ServiceProvider.GetRequiredService<RunWebSocketEndpoint>();
        var app = endpoints.CreateApplicationBuilder();
        app.UseWebSockets(new WebSocketOptions { KeepAliveInterval = TimeSpan.Zero });
        app.Run(endpoint.HandleAsync);
        return endpoints.Map(RunWebSocketEndpoint.Path, app.Build()).RequireAuthorization(authorizationPolicy);
    }
}

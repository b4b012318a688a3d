using System.Text.Json.Serialization;
using AgentOrchestrator.Gateway.Admin;
using AgentOrchestrator.Gateway.Auth;
using AgentOrchestrator.Gateway.Catalog;
using AgentOrchestrator.Gateway.Hubs;
using AgentOrchestrator.Gateway.Page;
using AgentOrchestrator.Gateway.Quotas;
using AgentOrchestrator.Gateway.Replay;
using AgentOrchestrator.Gateway.Runs;
using AgentOrchestrator.Gateway.Sse;
using AgentOrchestrator.Gateway.Telemetry;
using AgentOrchestrator.Gateway.WebSockets;
using AgentOrchestrator.RunStreaming;
using AgentOrchestrator.RunStreaming.Replay;
using AgentOrchestrator.RunStreaming.Subscriptions;
using AgentOrchestrator.ServiceDefaults.Health;
using AgentOrchestrator.ServiceDefaults.Telemetry;
using AgentOrchestrator.Tenancy;
using AgentOrchestrator.Tenancy.Budgets;
using MassTransit;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Temporalio.Client;

namespace AgentOrchestrator.Gateway;

/// <summary>Returned by <see cref="GatewayServiceCollectionExtensions.AddRunGateway"/> for follow-up configuration.</summary>
public sealed class RunGatewayBuilder(IServiceCollection services)
{
    public IServiceCollection Services { get; } = services;

    /// <summary>Allows another flow (a workflow type on the agents task queue) besides the shipped catalog to be started through the API.</summary>
    public RunGatewayBuilder AddFlow(string flow)
    {
        Services.Configure<GatewayOptions>(options => options.Flows.Add(flow));
        return this;
    }

    /// <summary>
    /// Declares the all-in-one embedded host: Auth:DevTokens=true is then allowed outside the Development
    /// environment. Only a host's code can declare it, never configuration.
    /// </summary>
    public RunGatewayBuilder UseEmbeddedMode()
    {
        Services.Replace(ServiceDescriptor.Singleton(new GatewayHostMode(Embedded: true)));
        Services.UseSingleProcessTenancy();
        return this;
    }
}

public static class GatewayServiceCollectionExtensions
{
    /// <summary>The authorization policy every gateway endpoint except the page and dev tokens requires.</summary>
    public const string AuthorizationPolicy = "RunGateway";

    /// <summary>
    /// Gateway services: options ("Gateway", "Auth", "Temporal", "Quotas", "Tenancy"), a lazily connecting Temporal
    /// client (unless the host registered one), JWT bearer and API key auth, tenant policy and quotas, the tenant admin
    /// API, SignalR, the plain WebSocket endpoint, problem details, and the run-event path (AddRunStreaming) with run lookups and the durable
    /// transcript from Temporal (unless the host registered another IDurableRunTranscript). The bus consumers are added
    /// separately through <see cref="AddRunGatewayConsumers"/>.
    /// </summary>
    public static RunGatewayBuilder AddRunGateway(this IServiceCollection services, IConfiguration configuration, IHostEnvironment environment)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<GatewayOptions>().BindConfiguration(GatewayOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<GatewayTemporalOptions>().BindConfiguration(GatewayTemporalOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<GatewayAuthOptions>().BindConfiguration(GatewayAuthOptions.SectionName).ValidateOnStart();
        services.TryAddSingleton(GatewayHostMode.Distributed);
        services.AddSingleton<IValidateOptions<GatewayAuthOptions>>(provider =>
            new GatewayAuthOptionsValidator(environment, provider.GetRequiredService<GatewayHostMode>()));

        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<ITemporalClient>(provider =>
        {
            var temporal = provider.GetRequiredService<IOptions<GatewayTemporalOptions>>().Value;
            return TemporalClient.CreateLazy(new TemporalClientConnectOptions(temporal.Target)
            {
                Namespace = temporal.Namespace,
                LoggerFactory = provider.GetRequiredService<ILoggerFactory>(),
                Interceptors = [new TemporalTracingClientInterceptor()],
            });
        });
        services.TryAddSingleton<TenantDispatchPriority>();
        services.TryAddSingleton<RunService>();
        services.TryAddSingleton<FlowRegistry>();
        services.TryAddSingleton<RunRequestValidator>();
        services.AddRunInteraction();
        services.AddGatewayMetrics();
        services.TryAddSingleton<IRunLookup>(provider => provider.GetRequiredService<RunService>());
        services.TryAddSingleton<IDurableRunTranscript, TemporalRunTranscript>();
        services.AddRunStreaming(configuration);
        services.TryAddSingleton<GatewaySigningKey>();
        services.TryAddSingleton<DevTokenIssuer>();
        services.AddHostedService<GatewayStartupLogger>();
        // Tenant policies: quotas, delivery weights, dispatch priority and the admin API read them.
        services.AddTenancy(configuration);
        // The workers' model budgets, read here for the admin usage endpoint (tokens, cost, model calls, waits).
        services.AddTenantModelBudgets(configuration);
        services.AddHealthChecks().AddTemporalReadiness("temporal", provider => provider.GetRequiredService<ITemporalClient>());

        services.AddProblemDetails();
        services.TryAddSingleton<ApiKeyStore>();
        services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme).AddJwtBearer()
            .AddScheme<ApiKeyAuthenticationOptions, ApiKeyAuthenticationHandler>(ApiKeyDefaults.AuthenticationScheme, configureOptions: null);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IConfigureOptions<JwtBearerOptions>, ConfigureGatewayJwtBearer>());
        services.AddAuthorizationBuilder().AddPolicy(AuthorizationPolicy, policy => policy
            .AddAuthenticationSchemes(JwtBearerDefaults.AuthenticationScheme, ApiKeyDefaults.AuthenticationScheme)
            .RequireAuthenticatedUser()
            .RequireClaim(TenantIds.TenantClaim)
            // A bearer token and an API key of different tenants in one request merge into one principal: refuse (403).
            .RequireAssertion(context => context.User.FindAll(TenantIds.TenantClaim).Select(c => c.Value).Distinct(StringComparer.Ordinal).Count() == 1));
        services.AddGatewayQuotas();
        services.AddTenantAdmin();
        services.AddRunWebSockets();
        services.AddSignalR().AddJsonProtocol(json =>
            json.PayloadSerializerOptions.DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull);
        // SignalR's default 32 KB message limit would close the connection on a StartRun with a long (valid or too
        // long) input instead of answering it; room for the longest input, fully JSON-escaped, plus framing.
        services.AddOptions<HubOptions>().Configure<IOptions<GatewayOptions>>((hub, gateway) =>
            hub.MaximumReceiveMessageSize = Math.Max(hub.MaximumReceiveMessageSize ?? 0, ((long)gateway.Value.MaxInputLength * 6) + 4096));
        return new RunGatewayBuilder(services);
    }

    /// <summary>
    /// The gateway's bus consumers; pass to AddMessageBus(configuration, bus => ...). The run-event consumer is only
    /// used with the in-memory transport: over RabbitMQ the gateway reads the run-event stream.
    /// </summary>
    public static void AddRunGatewayConsumers(this IBusRegistrationConfigurator bus, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(bus);
        bus.AddRunStreamingConsumers(configuration);
    }

    /// <summary>
    /// /v1/runs, /hubs/runs, /v1/ws (plain WebSocket subscribers), /v1/admin/tenants, the page at "/" and, when dev tokens are enabled, POST /v1/dev/tokens
    /// (otherwise that path is not mapped and answers 404).
    /// </summary>
    public static IEndpointRouteBuilder MapRunGateway(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        endpoints.MapRunEndpoints(AuthorizationPolicy);
        endpoints.MapFlowEndpoints(AuthorizationPolicy);
        endpoints.MapRunInteraction(AuthorizationPolicy);
        endpoints.MapRunEventStreams(AuthorizationPolicy);
        endpoints.MapHub<RunsHub>(ConfigureGatewayJwtBearer.HubPath).RequireAuthorization(AuthorizationPolicy);
        endpoints.MapRunWebSockets(AuthorizationPolicy);
        endpoints.MapTenantAdmin();
        if (endpoints.ServiceProvider.GetRequiredService<GatewaySigningKey>().DevTokensEnabled)
        {
            endpoints.MapDevTokenEndpoint();
        }
        endpoints.MapRunPage();
        return endpoints;
    }

    private sealed class GatewayStartupLogger(IOptions<GatewayTemporalOptions> temporal, IOptions<GatewayAuthOptions> auth,
        GatewaySigningKey signingKey, ILogger<GatewayStartupLogger> logger) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            GatewayLog.TemporalTarget(logger, temporal.Value.Target, temporal.Value.Namespace);
            var keySource = signingKey.Key is null ? "none" : signingKey.IsGenerated ? "generated per process"
                : signingKey.KeyFile is { } file ? $"kept in {file}" : "configured";
            var devTokens = signingKey.DevTokensEnabled ? "enabled" : "disabled";
            var authority = auth.Value.Authority?.ToString() ?? "none";
            GatewayLog.AuthChoice(logger, devTokens, keySource, authority);
            if (signingKey.IsGenerated)
            {
                GatewayLog.GeneratedSigningKey(logger);
            }
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}

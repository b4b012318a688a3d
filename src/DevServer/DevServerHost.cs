using System.Net;
using AgentOrchestrator.DevServer.Engine;
using AgentOrchestrator.DevServer.Engine.Storage;
using AgentOrchestrator.DevServer.Grpc;
using AgentOrchestrator.DevServer.Matching;
using AgentOrchestrator.DevServer.Namespaces;
using AgentOrchestrator.DevServer.Schedules;
using AgentOrchestrator.DevServer.Visibility;
using Grpc.AspNetCore.Server.Model;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AgentOrchestrator.DevServer;

/// <summary>
/// A running dev server: its own Kestrel endpoint (HTTP/2 cleartext, as the SDK dials plain targets with
/// prior knowledge), so it can live beside an HTTP/1.1 app in the same process.
/// </summary>
public sealed class DevServerHost : IAsyncDisposable
{
    private readonly WebApplication _app;

    private DevServerHost(WebApplication app, string target)
    {
        _app = app;
        Target = target;
    }

    /// <summary>host:port to give the Temporal client (e.g. 127.0.0.1:7233).</summary>
    public string Target { get; }

    internal WorkflowEngine Engine => _app.Services.GetRequiredService<WorkflowEngine>();

    /// <summary>Starts a dev server; with <see cref="DevServerOptions.Port"/> 0 it binds a free port.</summary>
    public static async Task<DevServerHost> StartAsync(DevServerOptions options, TimeProvider? timeProvider = null,
        Action<ILoggingBuilder>? configureLogging = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        configureLogging?.Invoke(builder.Logging);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Listen(IPAddress.Parse(options.Ip), options.Port, listen => listen.Protocols = HttpProtocols.Http2);
            kestrel.Limits.MaxRequestBodySize = options.MaxReceiveMessageSize;
            // A client multiplexes every call on one connection, and each GetResult or task poll holds a stream for
            // up to a minute: a low limit would queue calls behind idle long polls (Kestrel's default is 100).
            kestrel.Limits.Http2.MaxStreamsPerConnection = 100_000;
        });
        if (timeProvider is not null)
        {
            builder.Services.AddSingleton(timeProvider);
        }
        builder.Services.AddTemporalDevServerCore(options);
        var app = builder.Build();
        try
        {
            // The engine restores stored state when it is built: a bad database fails the start, and timers due meanwhile fire now.
            app.Services.GetRequiredService<WorkflowEngine>();
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }
        app.MapTemporalDevServer();
        await app.StartAsync(cancellationToken);
        // Schedules run on their own timers: a restarted server resumes the stored ones now, not at the first call.
        app.Services.GetRequiredService<ScheduleService>();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        var uri = new Uri(address);
        return new DevServerHost(app, $"{options.Ip}:{uri.Port}");
    }

    public async Task StopAsync(CancellationToken cancellationToken = default) => await _app.StopAsync(cancellationToken);

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

public static class DevServerServiceCollectionExtensions
{
    /// <summary>
    /// Runs an embedded dev server inside a host (the one-command mode): it starts with the host on its own
    /// HTTP/2 port from configuration section "DevServer" and stops with it.
    /// </summary>
    public static IServiceCollection AddTemporalDevServer(this IServiceCollection services, Action<DevServerOptions>? configure = null)
    {
        var builder = services.AddOptions<DevServerOptions>().BindConfiguration(DevServerOptions.SectionName);
        if (configure is not null)
        {
            builder.Configure(configure);
        }
        services.AddHostedService<DevServerHostedService>();
        return services;
    }

    /// <summary>The engine and gRPC endpoint, for a web application that serves the dev server itself.</summary>
    internal static IServiceCollection AddTemporalDevServerCore(this IServiceCollection services, DevServerOptions options)
    {
        services.AddSingleton(Options.Create(options));
        services.TryAddSingleton(TimeProvider.System);
        services.AddMetrics();
        services.TryAddSingleton<DevServerMetrics>();
        services.TryAddSingleton<IWorkflowStore>(provider => string.IsNullOrEmpty(options.DatabasePath)
            ? new InMemoryWorkflowStore()
            : SqliteWorkflowStore.Open(options.DatabasePath, options.SyncCommitsToDisk, provider.GetRequiredService<ILoggerFactory>().CreateLogger<SqliteWorkflowStore>()));
        services.TryAddSingleton<WorkflowEngine>();
        services.TryAddSingleton<NamespaceRegistry>();
        services.TryAddSingleton<SearchAttributeRegistry>();
        services.TryAddSingleton<PollerRegistry>();
        services.TryAddSingleton<ScheduleService>();
        services.TryAddSingleton<WorkflowServiceEndpoint>();
        services.TryAddSingleton<EngineCallInterceptor>();
        services.TryAddSingleton<OperatorServiceEndpoint>();
        services.TryAddSingleton<HealthEndpoint>();
        services.AddGrpc(grpc =>
        {
            grpc.Interceptors.Add<EngineCallInterceptor>();
            grpc.MaxReceiveMessageSize = options.MaxReceiveMessageSize;
            grpc.MaxSendMessageSize = null;
            grpc.Interceptors.Add<NamespaceGuard>();
        });
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IServiceMethodProvider<WorkflowServiceEndpoint>, WorkflowServiceMethodProvider>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IServiceMethodProvider<OperatorServiceEndpoint>, OperatorServiceMethodProvider>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IServiceMethodProvider<HealthEndpoint>, HealthEndpoint>());
        return services;
    }

    internal static WebApplication MapTemporalDevServer(this WebApplication app)
    {
        // The SDK tolerates an unimplemented RPC only when the message says "unknown method".
        app.Use(async (context, next) =>
        {
            if (context.Request.ContentType?.StartsWith("application/grpc", StringComparison.Ordinal) == true &&
                !GrpcMethods.IsImplemented(context.Request.Path.Value ?? string.Empty))
            {
                var method = context.Request.Path.Value?.TrimStart('/') ?? string.Empty;
                context.Response.ContentType = "application/grpc";
                context.Response.AppendTrailer("grpc-status", ((int)global::Grpc.Core.StatusCode.Unimplemented).ToString(System.Globalization.CultureInfo.InvariantCulture));
                context.Response.AppendTrailer("grpc-message", Uri.EscapeDataString($"unknown method {method}"));
                return;
            }
            await next(context);
        });
        app.MapGrpcService<WorkflowServiceEndpoint>();
        app.MapGrpcService<OperatorServiceEndpoint>();
        app.MapGrpcService<HealthEndpoint>();
        return app;
    }

    private sealed class DevServerHostedService(IOptions<DevServerOptions> options, ILoggerFactory loggerFactory, ILogger<DevServerHostedService> logger)
        : Microsoft.Extensions.Hosting.IHostedService
    {
        private DevServerHost? _host;

        public async Task StartAsync(CancellationToken cancellationToken)
        {
            _host = await DevServerHost.StartAsync(options.Value, configureLogging: logging => logging.AddProvider(new ForwardingLoggerProvider(loggerFactory)),
                cancellationToken: cancellationToken);
            EngineLog.Listening(logger, _host.Target);
        }

        public async Task StopAsync(CancellationToken cancellationToken)
        {
            if (_host is not null)
            {
                await _host.DisposeAsync();
            }
        }
    }

    /// <summary>Sends the embedded server's logs to the hosting application's logging pipeline.</summary>
    private sealed class ForwardingLoggerProvider(ILoggerFactory factory) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => factory.CreateLogger(categoryName);

        public void Dispose()
        {
        }
    }
}

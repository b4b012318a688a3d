using AgentOrchestrator.Gateway;
using AgentOrchestrator.Messaging;
using AgentOrchestrator.ModelSimulator;
using AgentOrchestrator.ServiceDefaults;
using AgentOrchestrator.TestSupport;
using AgentOrchestrator.Workers;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace AgentOrchestrator.StackSupport;

/// <summary>
/// Real runs in one test process: a dev server, the model simulator, and one web app on Kestrel (a free port) holding
/// the gateway and an agent worker on MassTransit's in-memory bus, composed with the same AddXxx() pieces as
/// src/Standalone. (Standalone's composition is top-level statements with its own fixed ports and an embedded simulator,
/// so it cannot be reused here; this mirrors its calls.)
/// </summary>
public sealed class InProcessDeployment : IAsyncDisposable
{
    private readonly ModelSimulatorServer _simulator;
    private readonly WebApplication _app;

    private InProcessDeployment(DevServerFixture devServer, ModelSimulatorServer simulator, WebApplication app)
    {
        DevServer = devServer;
        _simulator = simulator;
        _app = app;
        Address = new Uri(app.Urls.First().TrimEnd('/') + "/");
    }

    public DevServerFixture DevServer { get; }

    /// <summary>The gateway's root address, ending in "/".</summary>
    public Uri Address { get; }

    /// <summary>The process's services (e.g. its meters, for tests that read metrics through a MeterListener).</summary>
    public IServiceProvider Services => _app.Services;

    public static async Task<InProcessDeployment> StartAsync(InProcessDeploymentOptions? options = null)
    {
        options ??= new InProcessDeploymentOptions();
        var devServer = new DevServerFixture();
        ModelSimulatorServer? simulator = null;
        WebApplication? app = null;
        try
        {
            await devServer.InitializeAsync();
            simulator = await ModelSimulatorServer.StartAsync(options.Simulator);
            app = Build(options, devServer, simulator);
            await app.StartAsync();
            return new InProcessDeployment(devServer, simulator, app);
        }
        catch
        {
            await StopAsync(devServer, simulator, app);
            throw;
        }
    }

    public ValueTask DisposeAsync() => new(StopAsync(DevServer, _simulator, _app));

    private static WebApplication Build(InProcessDeploymentOptions options, DevServerFixture devServer, ModelSimulatorServer simulator)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            EnvironmentName = "Development",
            ApplicationName = typeof(GatewayServiceCollectionExtensions).Assembly.GetName().Name,
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var settings = new Dictionary<string, string?>
        {
            ["Temporal:Target"] = devServer.Target,
            ["Temporal:Namespace"] = devServer.Namespace,
            ["Auth:SigningKey"] = options.SigningKey,
            ["Bus:Transport"] = "InMemory",
            ["Model:Endpoint"] = new Uri(simulator.BaseAddress, "v1").ToString(),
            // Short heartbeats: a worker's lost stream is noticed within a test's patience.
            ["Worker:HeartbeatInterval"] = "00:00:00.200",
            ["Serilog:MinimumLevel:Default"] = "Warning",
        };
        foreach (var (key, value) in options.Settings)
        {
            settings[key] = value;
        }
        builder.Configuration.AddInMemoryCollection(settings);
        builder.AddServiceDefaults();
        builder.Services.AddMessageBus(builder.Configuration, bus => bus.AddRunGatewayConsumers(builder.Configuration));
        builder.Services.AddAgentWorker(builder.Configuration);
        builder.Services.AddRunGateway(builder.Configuration, builder.Environment);
        options.ConfigureServices?.Invoke(builder.Services);
        var app = builder.Build();
        app.MapRunGateway();
        if (options.MapDefaultEndpoints)
        {
            app.MapDefaultEndpoints();
        }
        return app;
    }

    private static async Task StopAsync(DevServerFixture devServer, ModelSimulatorServer? simulator, WebApplication? app)
    {
        if (app is not null)
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
        if (simulator is not null)
        {
            await simulator.DisposeAsync();
        }
        await devServer.DisposeAsync();
    }
}

/// <summary>How an <see cref="InProcessDeployment"/> differs from the default one (instant model, dev tokens, no /metrics).</summary>
public sealed record InProcessDeploymentOptions
{
    /// <summary>The model simulator's options; by default every token at once, so runs finish fast.</summary>
    public Action<ModelSimulatorOptions> Simulator { get; init; } = o => o.Instant = true;

    public string SigningKey { get; init; } = "in-process-deployment-signing-key-0123456789abcdef";

    /// <summary>Configuration entries added over the deployment's own (same key: this value wins).</summary>
    public IReadOnlyDictionary<string, string?> Settings { get; init; } = new Dictionary<string, string?>();

    /// <summary>Runs after the product's services are added, e.g. to add fault handlers to the model's HTTP client.</summary>
    public Action<IServiceCollection>? ConfigureServices { get; init; }

    /// <summary>Also map /healthz, /readyz and /metrics (MapDefaultEndpoints).</summary>
    public bool MapDefaultEndpoints { get; init; }
}

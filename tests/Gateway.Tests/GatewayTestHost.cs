using AgentOrchestrator.Messaging;
using AgentOrchestrator.ServiceDefaults;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace AgentOrchestrator.Gateway.Tests;

/// <summary>The gateway as the distributed Program.cs composes it, on Kestrel at a free loopback port, in-memory bus.</summary>
public sealed class GatewayTestHost : IAsyncDisposable
{
    /// <summary>The configured signing key of test hosts, so tests can also sign their own (expired, tenant-less) tokens.</summary>
    public const string SigningKey = "gateway-tests-signing-key-0123456789abcdef";

    private readonly WebApplication _app;

    private GatewayTestHost(WebApplication app, Uri address)
    {
        _app = app;
        Address = address;
    }

    public Uri Address { get; }

    public IServiceProvider Services => _app.Services;

    /// <param name="configure">Runs after the gateway is added: more configuration sources, UseEmbeddedMode, ...</param>
    public static async Task<GatewayTestHost> StartAsync(string temporalTarget, string environment = "Development",
        IDictionary<string, string?>? settings = null, Action<WebApplicationBuilder, RunGatewayBuilder>? configure = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            EnvironmentName = environment,
            ApplicationName = typeof(GatewayServiceCollectionExtensions).Assembly.GetName().Name,
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var configuration = new Dictionary<string, string?>
        {
            ["Temporal:Target"] = temporalTarget,
            ["Temporal:Namespace"] = "default",
            ["Auth:SigningKey"] = SigningKey,
            ["Bus:Transport"] = "InMemory",
            ["Serilog:MinimumLevel:Default"] = "Warning",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            configuration[key] = value;
        }
        builder.Configuration.AddInMemoryCollection(configuration);
        builder.AddServiceDefaults();
        builder.Services.AddMessageBus(builder.Configuration, bus => bus.AddRunGatewayConsumers(builder.Configuration));
        var gateway = builder.Services.AddRunGateway(builder.Configuration, builder.Environment);
        configure?.Invoke(builder, gateway);

        var app = builder.Build();
        app.MapRunGateway();
        app.MapDefaultEndpoints();
        try
        {
            await app.StartAsync();
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }
        return new GatewayTestHost(app, new Uri(app.Urls.First().TrimEnd('/') + "/"));
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

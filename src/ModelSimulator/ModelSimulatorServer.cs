using System.Net;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;

namespace AgentOrchestrator.ModelSimulator;

/// <summary>
/// An in-process simulator on 127.0.0.1 and a free port, for tests and benchmarks. Dispose to stop it.
/// </summary>
public sealed class ModelSimulatorServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private ModelSimulatorServer(WebApplication app, Uri baseAddress)
    {
        _app = app;
        BaseAddress = baseAddress;
    }

    /// <summary>Root of the server, e.g. <c>http://127.0.0.1:12345/</c>; the OpenAI endpoint is <c>BaseAddress + "v1"</c>.</summary>
    public Uri BaseAddress { get; }

    /// <summary>The server's counters (also served at <c>GET /v1/sim/stats</c>).</summary>
    public ModelSimulatorMetrics Metrics => _app.Services.GetRequiredService<ModelSimulatorMetrics>();

    /// <summary>Starts a server; <paramref name="configure"/> adjusts its options (e.g. <c>o => o.Instant = true</c>).</summary>
    public static async Task<ModelSimulatorServer> StartAsync(
        Action<ModelSimulatorOptions>? configure = null, CancellationToken cancellationToken = default)
    {
        // The empty builder reads no appsettings or environment and logs nowhere: a quiet, predictable test server.
        WebApplicationBuilder builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions
        {
            ApplicationName = typeof(ModelSimulatorServer).Assembly.GetName().Name,
        });
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        builder.Services.AddRoutingCore();
        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = TimeSpan.FromSeconds(5));
        builder.Services.AddModelSimulator(configure);

        WebApplication app = builder.Build();
        try
        {
            app.MapModelSimulator();
            await app.StartAsync(cancellationToken);
            string address = app.Services.GetRequiredService<IServer>().Features
                .GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
            return new ModelSimulatorServer(app, new Uri(address.TrimEnd('/') + "/"));
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }
    }

    /// <summary>Stops the server; streams still running are ended.</summary>
    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

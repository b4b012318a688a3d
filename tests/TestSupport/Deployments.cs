using System.Globalization;

namespace AgentOrchestrator.TestSupport;

/// <summary>The whole product running as real processes, reachable through its gateway.</summary>
public interface IRunningDeployment : IAsyncDisposable
{
    Uri Gateway { get; }

    /// <summary>Every process's output, for failure messages.</summary>
    string Output { get; }
}

/// <summary>The one-command embedded mode: src/Standalone as one process on free ports.</summary>
public sealed class EmbeddedDeployment : IRunningDeployment
{
    private readonly ServiceProcess _standalone;

    private EmbeddedDeployment(ServiceProcess standalone, Uri gateway, string temporalTarget)
    {
        _standalone = standalone;
        Gateway = gateway;
        TemporalTarget = temporalTarget;
    }

    public Uri Gateway { get; }

    /// <summary>host:port of the embedded dev server, for tests that read a run's Temporal history.</summary>
    public string TemporalTarget { get; }

    public string Output => _standalone.Output;

    /// <summary>The one process (gateway, worker, dev server, simulator), for benchmarks that measure it.</summary>
    public int ProcessId => _standalone.ProcessId;

    public static async Task<EmbeddedDeployment> StartAsync(IDictionary<string, string>? environment = null)
    {
        var gateway = new Uri($"http://127.0.0.1:{ServiceProcess.FreePort()}");
        var temporalPort = ServiceProcess.FreePort().ToString(CultureInfo.InvariantCulture);
        var standalone = ServiceProcess.Start("Standalone",
            ["--urls", gateway.ToString().TrimEnd('/'), "--DevServer:Port", temporalPort],
            environment ?? new Dictionary<string, string>(), readyMarker: "is ready");
        await standalone.WaitReadyAsync();
        return new EmbeddedDeployment(standalone, gateway, $"127.0.0.1:{temporalPort}");
    }

    public ValueTask DisposeAsync() => _standalone.DisposeAsync();
}

/// <summary>
/// Distributed mode: the dev server, the model simulator, the worker and the gateway as four processes,
/// with run events crossing a real RabbitMQ broker, configured as an operator would.
/// </summary>
public sealed class DistributedDeployment : IRunningDeployment
{
    private readonly List<ServiceProcess> _processes;

    private DistributedDeployment(List<ServiceProcess> processes, Uri gateway)
    {
        _processes = processes;
        Gateway = gateway;
    }

    public Uri Gateway { get; }

    public string Output => string.Join("\n\n", _processes.Select(p => $"== {p.Name}\n{p.Output}"));

    public static async Task<DistributedDeployment> StartAsync(Uri rabbitMq, IDictionary<string, string>? simulatorEnvironment = null)
    {
        var processes = new List<ServiceProcess>();
        try
        {
            var temporalPort = ServiceProcess.FreePort();
            var simulatorUrl = $"http://127.0.0.1:{ServiceProcess.FreePort()}";
            var gateway = new Uri($"http://127.0.0.1:{ServiceProcess.FreePort()}");
            var shared = new Dictionary<string, string>
            {
                ["Bus__Transport"] = "RabbitMq",
                ["Bus__RabbitMqUri"] = rabbitMq.ToString(),
                ["Temporal__Target"] = $"127.0.0.1:{temporalPort}",
            };
            ServiceProcess Start(string project, string[] arguments, IDictionary<string, string> environment, string readyMarker)
            {
                var process = ServiceProcess.Start(project, arguments, environment, readyMarker);
                processes.Add(process);
                return process;
            }

            var devServer = Start("DevServer", ["--port", temporalPort.ToString(CultureInfo.InvariantCulture)], new Dictionary<string, string>(), "listening on");
            var simulator = Start("ModelSimulator", ["--urls", simulatorUrl], simulatorEnvironment ?? new Dictionary<string, string>(), "Now listening on");
            await Task.WhenAll(devServer.WaitReadyAsync(), simulator.WaitReadyAsync());
            var worker = Start("Workers", ["--urls", $"http://127.0.0.1:{ServiceProcess.FreePort()}"],
                new Dictionary<string, string>(shared) { ["Model__Endpoint"] = simulatorUrl + "/v1" }, "Application started");
            var gatewayProcess = Start("Gateway", ["--urls", gateway.ToString().TrimEnd('/')],
                new Dictionary<string, string>(shared) { ["Auth__DevTokens"] = "true", ["DOTNET_ENVIRONMENT"] = "Development", ["ASPNETCORE_ENVIRONMENT"] = "Development" }, "Application started");
            await Task.WhenAll(worker.WaitReadyAsync(), gatewayProcess.WaitReadyAsync());
            return new DistributedDeployment(processes, gateway);
        }
        catch
        {
            foreach (var process in processes)
            {
                await process.DisposeAsync();
            }
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var process in _processes)
        {
            await process.DisposeAsync();
        }
    }
}

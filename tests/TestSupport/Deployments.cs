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

    /// <summary>
    /// Starts the embedded host; with <paramref name="dataDirectory"/> it keeps its state there (--data-dir), else in
    /// memory (--ephemeral), so tests never share state through the default ./.agent-orchestrator directory.
    /// </summary>
    public static async Task<EmbeddedDeployment> StartAsync(IDictionary<string, string>? environment = null, string? dataDirectory = null,
        Uri? gateway = null, int? temporalPort = null)
    {
        gateway ??= new Uri($"http://127.0.0.1:{ServiceProcess.FreePort()}");
        var temporal = (temporalPort ?? ServiceProcess.FreePort()).ToString(CultureInfo.InvariantCulture);
        string[] storage = dataDirectory is null ? ["--ephemeral"] : ["--data-dir", dataDirectory];
        var standalone = ServiceProcess.Start("Standalone",
            ["--urls", gateway.ToString().TrimEnd('/'), "--DevServer:Port", temporal, .. storage],
            environment ?? new Dictionary<string, string>(), readyMarker: "is ready");
        await standalone.WaitReadyAsync();
        return new EmbeddedDeployment(standalone, gateway, $"127.0.0.1:{temporal}");
    }

    public ValueTask DisposeAsync() => _standalone.DisposeAsync();
}

/// <summary>
/// Distributed mode: the dev server, the model simulator, the worker and one or more gateways as separate processes,
/// with run events crossing a real RabbitMQ broker, configured as an operator would. Each deployment gets a
/// run-event stream and error queue of its own (deleted at the end), and its gateways share a signing key, so a dev
/// token from one is valid on all.
/// </summary>
public sealed class DistributedDeployment : IRunningDeployment
{
    private readonly List<ServiceProcess> _processes;
    private readonly List<(Uri Url, ServiceProcess Process)> _gateways = [];
    private readonly Dictionary<string, string> _shared;

    private readonly List<(Uri Url, ServiceProcess Process)> _workers = [];
    private readonly DistributedDeploymentOptions _options;

    private RedisServer? _redis;
    private ServiceProcess? _devServer;
    private string? _devServerDirectory;

    private DistributedDeployment(List<ServiceProcess> processes, Dictionary<string, string> shared, Uri rabbitMq,
        DistributedDeploymentOptions options, Uri simulator)
    {
        _processes = processes;
        _shared = shared;
        RabbitMq = rabbitMq;
        _options = options;
        Simulator = simulator;
    }

    /// <summary>The first gateway.</summary>
    public Uri Gateway => _gateways[0].Url;

    /// <summary>Every gateway started, in start order (killed ones included).</summary>
    public IReadOnlyList<Uri> Gateways => _gateways.Select(g => g.Url).ToList();

    public Uri RabbitMq { get; }

    /// <summary>Every worker started, in start order (killed ones included): their HTTP base addresses.</summary>
    public IReadOnlyList<Uri> Workers => _workers.Select(w => w.Url).ToList();

    /// <summary>The model simulator's base address (its stats are at /v1/sim/stats).</summary>
    public Uri Simulator { get; }

    /// <summary>The first worker process's HTTP address (/healthz, /readyz, /metrics).</summary>
    public Uri Worker => Workers[0];

    /// <summary>This deployment's live run-event exchange (RunEvents:Live:Exchange): routing key = a run's workflow id.</summary>
    public string LiveExchange => _shared["RunEvents__Live__Exchange"];

    /// <summary>host:port of the deployment's dev server (Temporal:Target), for tests that describe a run's workflow.</summary>
    public string TemporalTarget => _shared["Temporal__Target"];

    /// <summary>This deployment's run-event log (a redis-server of its own; RunEvents:Log:Redis).</summary>
    public RedisServer Redis => _redis ?? throw new InvalidOperationException("The deployment has not started.");

    public string Output => string.Join("\n\n", _processes.Select(p => $"== {p.Name}\n{p.Output}"));

    public static Task<DistributedDeployment> StartAsync(Uri rabbitMq, IDictionary<string, string>? simulatorEnvironment = null, int gateways = 1) =>
        StartAsync(rabbitMq, new DistributedDeploymentOptions
        {
            Gateways = gateways,
            SimulatorEnvironment = simulatorEnvironment ?? new Dictionary<string, string>(),
        });

    public static async Task<DistributedDeployment> StartAsync(Uri rabbitMq, DistributedDeploymentOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfNegative(options.Gateways);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Workers, 1);
        var processes = new List<ServiceProcess>();
        var temporalPort = ServiceProcess.FreePort();
        var simulatorUrl = $"http://127.0.0.1:{ServiceProcess.FreePort()}";
        var unique = Guid.NewGuid().ToString("N")[..12];
        var shared = new Dictionary<string, string>
        {
            ["Bus__Transport"] = "RabbitMq",
            ["Bus__RabbitMqUri"] = rabbitMq.ToString(),
            ["RunEvents__Live__Exchange"] = $"test-run-events-live-{unique}",
            ["RunEvents__Log__Store"] = "Redis",
            ["Temporal__Target"] = $"127.0.0.1:{temporalPort}",
            // Gateways run as Development, whose default would print every span to their output.
            ["Telemetry__Tracing__Exporter"] = "None",
        };
        foreach (var (key, value) in options.Environment)
        {
            shared[key] = value;
        }
        var deployment = new DistributedDeployment(processes, shared, rabbitMq, options, new Uri(simulatorUrl));
        try
        {
            deployment._redis = await RedisServer.StartAsync(options.DurableRedis);
            shared["RunEvents__Log__Redis"] = deployment._redis.Configuration;
            if (options.DurableDevServer)
            {
                deployment._devServerDirectory = Directory.CreateTempSubdirectory("ao-devserver-").FullName;
            }
            var devServer = deployment.StartDevServer();
            var simulator = deployment.Start("ModelSimulator", ["--urls", simulatorUrl], options.SimulatorEnvironment, "Now listening on");
            await Task.WhenAll(devServer.WaitReadyAsync(), simulator.WaitReadyAsync());
            var starting = Enumerable.Range(0, options.Workers).Select(_ => deployment.StartWorkerAsync())
                .Concat(Enumerable.Range(0, options.Gateways).Select(_ => deployment.StartGatewayAsync()))
                .ToList();
            await Task.WhenAll(starting);
            return deployment;
        }
        catch
        {
            await deployment.DisposeAsync();
            throw;
        }
    }

    /// <summary>Starts one more worker process (its HTTP port serves /healthz, /readyz) and waits until it has started.</summary>
    public async Task<Uri> StartWorkerAsync()
    {
        var url = new Uri($"http://127.0.0.1:{ServiceProcess.FreePort()}");
        var environment = new Dictionary<string, string>(_shared) { ["Model__Endpoint"] = new Uri(Simulator, "v1").ToString() };
        foreach (var (key, value) in _options.WorkerEnvironment)
        {
            environment[key] = value;
        }
        var process = Start("Workers", ["--urls", url.ToString().TrimEnd('/')], environment, "Application started");
        lock (_workers)
        {
            _workers.Add((url, process));
        }
        await process.WaitReadyAsync();
        return url;
    }

    /// <summary>kill -9 of the dev server (durable or not: a durable one keeps its SQLite file for <see cref="RestartDevServerAsync"/>).</summary>
    public async Task KillDevServerAsync() => await (_devServer ?? throw new InvalidOperationException("The deployment has not started.")).DisposeAsync();

    /// <summary>Starts the dev server again on its port (and, when durable, its file) and waits until it listens.</summary>
    public async Task RestartDevServerAsync()
    {
        await KillDevServerAsync();
        await StartDevServer().WaitReadyAsync();
    }

    private ServiceProcess StartDevServer()
    {
        var port = TemporalTarget[(TemporalTarget.LastIndexOf(':') + 1)..];
        string[] arguments = _devServerDirectory is null
            ? ["--port", port]
            : ["--port", port, "--db-filename", Path.Combine(_devServerDirectory, "dev.db")];
        _devServer = Start("DevServer", arguments, new Dictionary<string, string>(), "listening on");
        return _devServer;
    }

    /// <summary>kill -9 of one worker process.</summary>
    public async Task KillWorkerAsync(Uri worker) => await _workers.Single(w => w.Url == worker).Process.DisposeAsync();

    /// <summary>
    /// Starts one more gateway and waits until /readyz says it is ready (its live routing and log are connected).
    /// <paramref name="environment"/> is set on this gateway only, over everything else (e.g. its own Bus__RabbitMqUri).
    /// </summary>
    public async Task<Uri> StartGatewayAsync(IReadOnlyDictionary<string, string>? environment = null)
    {
        var url = new Uri($"http://127.0.0.1:{ServiceProcess.FreePort()}");
        var gatewayEnvironment = new Dictionary<string, string>(_shared)
        {
            ["Auth__DevTokens"] = "true",
            // Dev tokens are refused outside Development (DOTNET_ENVIRONMENT wins over ASPNETCORE_ENVIRONMENT).
            ["DOTNET_ENVIRONMENT"] = "Development",
            ["ASPNETCORE_ENVIRONMENT"] = "Development",
            ["Auth__SigningKey"] = SharedSigningKey,
        };
        foreach (var (key, value) in _options.GatewayEnvironment.Concat(environment ?? new Dictionary<string, string>()))
        {
            gatewayEnvironment[key] = value;
        }
        var process = Start("Gateway", ["--urls", url.ToString().TrimEnd('/')], gatewayEnvironment, "Application started");
        lock (_gateways)
        {
            _gateways.Add((url, process));
        }
        await process.WaitReadyAsync();
        using var http = new HttpClient { BaseAddress = url };
        await Eventually.TrueAsync(async () =>
        {
            using var response = await http.GetAsync(new Uri("/readyz", UriKind.Relative));
            return response.IsSuccessStatusCode;
        }, TimeSpan.FromSeconds(120), $"gateway {url} is ready:\n{process.Output}");
        return url;
    }

    /// <summary>The operating-system process id of a gateway or worker (benchmarks read its CPU time; Temporal names a worker by it).</summary>
    public int ProcessIdOf(Uri service) => _gateways.Concat(_workers).Single(g => g.Url == service).Process.ProcessId;

    /// <summary>kill -9 of one gateway process.</summary>
    public async Task KillGatewayAsync(Uri gateway) => await _gateways.Single(g => g.Url == gateway).Process.DisposeAsync();

    private const string SharedSigningKey = "distributed-deployment-test-signing-key-0123456789";

    private ServiceProcess Start(string project, string[] arguments, IDictionary<string, string> environment, string readyMarker)
    {
        var process = ServiceProcess.Start(project, arguments, environment, readyMarker);
        lock (_processes)
        {
            _processes.Add(process);
        }
        return process;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var process in _processes)
        {
            await process.DisposeAsync();
        }
        await RabbitMqAdmin.DeleteExchangesAsync(RabbitMq, LiveExchange);
        if (_redis is not null)
        {
            await _redis.DisposeAsync();
        }
        if (_devServerDirectory is not null)
        {
            Directory.Delete(_devServerDirectory, recursive: true);
        }
    }
}

/// <summary>Shape of a <see cref="DistributedDeployment"/>; environment values use .NET's "Section__Key" form.</summary>
public sealed record DistributedDeploymentOptions
{
    /// <summary>Gateways started with the deployment (0: the test starts its own with <see cref="DistributedDeployment.StartGatewayAsync"/>).</summary>
    public int Gateways { get; init; } = 1;

    public int Workers { get; init; } = 1;

    /// <summary>Set on every gateway and worker (e.g. Tenancy__Store, Tenancy__Redis, Tenancy__Tenants__t1__...).</summary>
    public IReadOnlyDictionary<string, string> Environment { get; init; } = new Dictionary<string, string>();

    public IReadOnlyDictionary<string, string> GatewayEnvironment { get; init; } = new Dictionary<string, string>();

    public IReadOnlyDictionary<string, string> WorkerEnvironment { get; init; } = new Dictionary<string, string>();

    public IDictionary<string, string> SimulatorEnvironment { get; init; } = new Dictionary<string, string>();

    /// <summary>The dev server keeps its state in a SQLite file (--db-filename), so it survives a kill -9 and restart.</summary>
    public bool DurableDevServer { get; init; }

    /// <summary>The run-event log's Redis writes an append-only file, so it survives a kill -9 and restart.</summary>
    public bool DurableRedis { get; init; }
}

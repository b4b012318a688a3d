using System.Globalization;
using AgentOrchestrator.TestSupport;

namespace AgentOrchestrator.ChaosSupport;

/// <summary>
/// What the chaos suite breaks: the distributed deployment as processes (durable dev server, model simulator, two
/// workers, two gateways) over a RabbitMQ node of its own and a Redis with an append-only file, with two gateway "slots".
/// Each slot has an entrance (a TCP proxy playing the load balancer clients connect through) and its own link to the
/// broker (a TCP proxy that can cut that gateway off). <see cref="InjectAsync"/> breaks one part and repairs it as an
/// operator or orchestrator would.
/// </summary>
public sealed class ChaosDeployment : IAsyncDisposable
{
    private const int Slots = 2;
    private readonly PrivateRabbitMqNode _broker;
    private readonly DistributedDeployment _deployment;
    private readonly TcpProxy[] _entrances;
    private readonly TcpProxy[] _brokerLinks;
    private readonly Uri[] _gateways = new Uri[Slots];
    private readonly List<Uri> _workers;

    private ChaosDeployment(PrivateRabbitMqNode broker, DistributedDeployment deployment, TcpProxy[] entrances, TcpProxy[] brokerLinks)
    {
        _broker = broker;
        _deployment = deployment;
        _entrances = entrances;
        _brokerLinks = brokerLinks;
        _workers = [.. deployment.Workers];
    }

    /// <summary>Where clients connect: one load-balancer entrance per gateway slot.</summary>
    public IReadOnlyList<Uri> Entrances => _entrances.Select(e => e.Address).ToList();

    /// <summary>Every process's output, for failure messages.</summary>
    public string Output => _deployment.Output;

    public static async Task<ChaosDeployment> StartAsync(ChaosSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var broker = await PrivateRabbitMqNode.StartAsync();
        var brokerLinks = Enumerable.Range(0, Slots).Select(_ => TcpProxy.Start(new Uri($"http://127.0.0.1:{broker.Uri.Port}"))).ToArray();
        DistributedDeployment? deployment = null;
        try
        {
            deployment = await DistributedDeployment.StartAsync(broker.Uri, new DistributedDeploymentOptions
            {
                Gateways = 0,
                Workers = 2,
                DurableDevServer = true,
                DurableRedis = true,
                SimulatorEnvironment = new Dictionary<string, string>
                {
                    ["ModelSimulator__TokensPerSecond"] = settings.TokensPerSecond.ToString(CultureInfo.InvariantCulture),
                },
            });
            var chaos = new ChaosDeployment(broker, deployment, new TcpProxy[Slots], brokerLinks);
            var gateways = await Task.WhenAll(Enumerable.Range(0, Slots).Select(chaos.StartGatewayAsync));
            for (var slot = 0; slot < Slots; slot++)
            {
                chaos._gateways[slot] = gateways[slot];
                chaos._entrances[slot] = TcpProxy.Start(gateways[slot]);
            }
            return chaos;
        }
        catch
        {
            if (deployment is not null)
            {
                await deployment.DisposeAsync();
            }
            foreach (var link in brokerLinks)
            {
                await link.DisposeAsync();
            }
            await broker.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Breaks <paramref name="kind"/> (the target drawn from <paramref name="random"/>), keeps it broken for an outage
    /// drawn from [1 s, <paramref name="maxOutage"/>] where the fault is a stop, and repairs it. Returns when the
    /// deployment is whole again (every gateway ready); the fault's moment is <see cref="Fault.At"/>.
    /// </summary>
    public async Task<Fault> InjectAsync(FaultKind kind, Random random, TimeSpan maxOutage)
    {
        ArgumentNullException.ThrowIfNull(random);
        var outage = TimeSpan.FromMilliseconds(random.Next(1000, Math.Max(1001, (int)maxOutage.TotalMilliseconds)));
        var slot = random.Next(Slots);
        Fault fault;
        switch (kind)
        {
            case FaultKind.WorkerKill:
                {
                    var worker = _workers[random.Next(_workers.Count)];
                    await _deployment.KillWorkerAsync(worker);
                    fault = new Fault(kind, DateTimeOffset.UtcNow, $"worker {worker}");
                    _workers.Remove(worker);
                    // The orchestrator (systemd, Kubernetes) brings a new one; the survivor carries the load meanwhile.
                    await Task.Delay(outage);
                    _workers.Add(await _deployment.StartWorkerAsync());
                    break;
                }
            case FaultKind.GatewayKill:
                {
                    var other = _gateways[1 - slot];
                    // The load balancer's health check takes the dead gateway out: new connections go to the other one.
                    _entrances[slot].Retarget(other);
                    await _deployment.KillGatewayAsync(_gateways[slot]);
                    fault = new Fault(kind, DateTimeOffset.UtcNow, $"gateway {_gateways[slot]} (slot {slot})");
                    _gateways[slot] = await StartGatewayAsync(slot);
                    _entrances[slot].Retarget(_gateways[slot]);
                    break;
                }
            case FaultKind.DevServerRestart:
                await _deployment.KillDevServerAsync();
                fault = new Fault(kind, DateTimeOffset.UtcNow, $"dev server down {outage.TotalSeconds:F1} s");
                await Task.Delay(outage);
                await _deployment.RestartDevServerAsync();
                break;
            case FaultKind.BrokerRestart:
                await _broker.StopAppAsync();
                fault = new Fault(kind, DateTimeOffset.UtcNow, $"broker down {outage.TotalSeconds:F1} s");
                await Task.Delay(outage);
                await _broker.StartAppAsync();
                break;
            case FaultKind.RedisRestart:
                await _deployment.Redis.StopAsync();
                fault = new Fault(kind, DateTimeOffset.UtcNow, $"Redis down {outage.TotalSeconds:F1} s");
                await Task.Delay(outage);
                await _deployment.Redis.RestartAsync();
                break;
            case FaultKind.GatewayBrokerCut:
                {
                    var link = _brokerLinks[slot];
                    link.Refusing = true;
                    link.CutAll();
                    fault = new Fault(kind, DateTimeOffset.UtcNow, $"gateway {_gateways[slot]} cut from the broker {outage.TotalSeconds:F1} s");
                    await Task.Delay(outage);
                    link.Refusing = false;
                    break;
                }
            default:
                throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown fault");
        }
        await WaitReadyAsync();
        return fault;
    }

    /// <summary>Every current gateway and worker says /readyz healthy.</summary>
    public async Task WaitReadyAsync()
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        await Eventually.TrueAsync(async () =>
        {
            foreach (var service in _gateways.Concat(_workers))
            {
                try
                {
                    using var response = await http.GetAsync(new Uri(service, "/readyz"));
                    if (!response.IsSuccessStatusCode)
                    {
                        return false;
                    }
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
                {
                    return false;
                }
            }
            return true;
        }, TimeSpan.FromMinutes(3), "every gateway and worker is ready again");
    }

    // A gateway of a slot reaches the broker through that slot's link, so the link can cut it off alone.
    private Task<Uri> StartGatewayAsync(int slot) => _deployment.StartGatewayAsync(new Dictionary<string, string>
    {
        ["Bus__RabbitMqUri"] = $"amqp://guest:guest@127.0.0.1:{_brokerLinks[slot].Address.Port.ToString(CultureInfo.InvariantCulture)}/",
    });

    public async ValueTask DisposeAsync()
    {
        foreach (var entrance in _entrances.Where(e => e is not null))
        {
            await entrance.DisposeAsync();
        }
        await _deployment.DisposeAsync();
        foreach (var link in _brokerLinks)
        {
            await link.DisposeAsync();
        }
        await _broker.DisposeAsync();
    }
}

/// <summary>One injected fault: what broke, when (the moment the part was dead, stopped or cut: recovery is measured from it) and which part.</summary>
public sealed record Fault(FaultKind Kind, DateTimeOffset At, string Detail);

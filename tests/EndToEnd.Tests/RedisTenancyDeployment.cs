using AgentOrchestrator.TestSupport;

namespace AgentOrchestrator.EndToEnd.Tests;

/// <summary>
/// A Redis server of the fixture's own and a distributed deployment using it as the tenant policy and budget store
/// (Tenancy:Store=Redis), on the shared broker. Subclasses say what else the deployment needs.
/// </summary>
public abstract class RedisTenancyDeployment : IAsyncLifetime
{
    private readonly RabbitMqFixture _rabbit = new();
    private RedisServer? _redis;
    private DistributedDeployment? _deployment;

    public RedisServer Redis => _redis ?? throw new InvalidOperationException("not started");

    public DistributedDeployment Deployment => _deployment ?? throw new InvalidOperationException("not started");

    /// <summary>The deployment's shape and settings; the Redis store settings are added to its environment.</summary>
    protected abstract DistributedDeploymentOptions Options { get; }

    public async Task InitializeAsync()
    {
        await _rabbit.InitializeAsync();
        _redis = await RedisServer.StartAsync();
        var options = Options;
        var environment = new Dictionary<string, string>(options.Environment)
        {
            ["Tenancy__Store"] = "Redis",
            ["Tenancy__Redis"] = _redis.Configuration,
        };
        _deployment = await DistributedDeployment.StartAsync(_rabbit.Uri, options with { Environment = environment });
    }

    public async Task DisposeAsync()
    {
        if (_deployment is not null)
        {
            await _deployment.DisposeAsync();
        }
        if (_redis is not null)
        {
            await _redis.DisposeAsync();
        }
        await _rabbit.DisposeAsync();
    }
}

using AgentOrchestrator.TestSupport;

namespace AgentOrchestrator.Bench;

/// <summary>The one gateway process a scenario loads and measures, embedded or distributed, with its process id.</summary>
internal sealed class GatewayUnderTest : IAsyncDisposable
{
    private readonly IRunningDeployment _deployment;

    private GatewayUnderTest(IRunningDeployment deployment, Uri gateway, int processId)
    {
        _deployment = deployment;
        Gateway = gateway;
        ProcessId = processId;
    }

    public Uri Gateway { get; }

    public int ProcessId { get; }

    /// <summary>Embedded: the one-process host. Distributed: dev server, simulator, worker and gateway as processes (RabbitMQ from RABBITMQ_URI).</summary>
    public static async Task<GatewayUnderTest> StartAsync(bool distributed, IReadOnlyDictionary<string, string> gatewayEnvironment)
    {
        if (!distributed)
        {
            var embedded = await EmbeddedDeployment.StartAsync(gatewayEnvironment.ToDictionary());
            return new GatewayUnderTest(embedded, embedded.Gateway, embedded.ProcessId);
        }
        var rabbit = new Uri(Environment.GetEnvironmentVariable("RABBITMQ_URI") ?? "amqp://guest:guest@127.0.0.1:5672/");
        var deployment = await DistributedDeployment.StartAsync(rabbit, new DistributedDeploymentOptions { GatewayEnvironment = gatewayEnvironment });
        return new GatewayUnderTest(deployment, deployment.Gateway, deployment.ProcessIdOf(deployment.Gateway));
    }

    public ValueTask DisposeAsync() => _deployment.DisposeAsync();
}

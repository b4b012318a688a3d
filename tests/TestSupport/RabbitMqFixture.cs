using Testcontainers.RabbitMq;
using Xunit;

namespace AgentOrchestrator.TestSupport;

/// <summary>
/// A real RabbitMQ broker for a test class: RABBITMQ_URI when set (scripts/test.sh starts a loopback
/// broker and sets it), otherwise a Testcontainers broker where a Docker engine exists.
/// </summary>
public sealed class RabbitMqFixture : IAsyncLifetime
{
    private RabbitMqContainer? _container;

    public Uri Uri { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var configured = Environment.GetEnvironmentVariable("RABBITMQ_URI");
        if (!string.IsNullOrEmpty(configured))
        {
            Uri = new Uri(configured);
            return;
        }
        if (!DockerAvailable())
        {
            throw new InvalidOperationException(
                "No RabbitMQ broker: set RABBITMQ_URI or run ./scripts/ensure-rabbitmq.sh (scripts/test.sh does both).");
        }
        _container = new RabbitMqBuilder("rabbitmq:3.13-management").Build();
        await _container.StartAsync();
        Uri = new Uri(_container.GetConnectionString());
    }

    private static bool DockerAvailable() =>
        File.Exists("/var/run/docker.sock") || !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("DOCKER_HOST"));

    public async Task DisposeAsync()
    {
        if (_container is not null)
        {
            await _container.DisposeAsync();
        }
    }
}

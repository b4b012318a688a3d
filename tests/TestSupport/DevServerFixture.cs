using AgentOrchestrator.DevServer;
using Temporalio.Client;
using Xunit;

namespace AgentOrchestrator.TestSupport;

/// <summary>
/// A dev server on a free loopback port for a test class (xunit class or collection fixture). Set
/// TEMPORAL_TEST_TARGET (host:port) to run the same tests against a real Temporal server instead, or
/// DEVSERVER_TEST_STORE=sqlite to run them against a dev server that stores everything in a SQLite file.
/// </summary>
public sealed class DevServerFixture : IAsyncLifetime
{
    private DevServerHost? _server;
    private string? _databasePath;

    public string Target { get; private set; } = string.Empty;

    public string Namespace { get; } = "default";

    public async Task InitializeAsync()
    {
        var external = Environment.GetEnvironmentVariable("TEMPORAL_TEST_TARGET");
        if (!string.IsNullOrEmpty(external))
        {
            Target = external;
            return;
        }
        if (Environment.GetEnvironmentVariable("DEVSERVER_TEST_STORE") == "sqlite")
        {
            _databasePath = Path.Combine(Path.GetTempPath(), $"devserver-fixture-{Guid.NewGuid():N}.db");
        }
        _server = await DevServerHost.StartAsync(new DevServerOptions { Port = 0, Namespace = Namespace, DatabasePath = _databasePath });
        Target = _server.Target;
    }

    public Task<TemporalClient> ConnectClientAsync() =>
        TemporalClient.ConnectAsync(new TemporalClientConnectOptions(Target) { Namespace = Namespace });

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
        if (_databasePath is not null)
        {
            File.Delete(_databasePath);
        }
    }
}

namespace AgentOrchestrator.ModelSimulator.Tests.Support;

/// <summary>One simulator without delays per test class; tests that need pacing ask for it per request.</summary>
public sealed class InstantSimulatorFixture : IAsyncLifetime
{
    private ModelSimulatorServer? _server;

    public ModelSimulatorServer Server => _server ?? throw new InvalidOperationException("Not started.");

    public HttpClient Client { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        _server = await ModelSimulatorServer.StartAsync(options => options.Instant = true);
        Client = new HttpClient { BaseAddress = _server.BaseAddress, Timeout = TestTimeouts.Request };
    }

    public async Task DisposeAsync()
    {
        Client.Dispose();
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}

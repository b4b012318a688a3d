using AgentOrchestrator.TestSupport;

namespace AgentOrchestrator.EndToEnd.Tests;

/// <summary>The one-command embedded mode (src/Standalone) as a person runs it, driven by a SignalR client.</summary>
public sealed class EmbeddedModeTests : IAsyncLifetime
{
    private EmbeddedDeployment? _deployment;

    public async Task InitializeAsync() => _deployment = await EmbeddedDeployment.StartAsync();

    public async Task DisposeAsync()
    {
        if (_deployment is not null)
        {
            await _deployment.DisposeAsync();
        }
    }

    [Fact]
    public Task WriterReviewer_Embedded_StreamsEveryTokenOfBothStepsInOrderThenCompletes() =>
        WriterReviewerScenario.RunAsync(_deployment!, tenant: "tenant-embedded");
}

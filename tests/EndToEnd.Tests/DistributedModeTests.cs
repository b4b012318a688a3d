using AgentOrchestrator.TestSupport;

namespace AgentOrchestrator.EndToEnd.Tests;

/// <summary>
/// Distributed mode: dev server, model simulator, worker and gateway as four separate processes, with
/// run events crossing a real RabbitMQ broker.
/// </summary>
public sealed class DistributedModeTests(RabbitMqFixture rabbit) : IClassFixture<RabbitMqFixture>, IAsyncLifetime
{
    private DistributedDeployment? _deployment;

    public async Task InitializeAsync() => _deployment = await DistributedDeployment.StartAsync(rabbit.Uri);

    public async Task DisposeAsync()
    {
        if (_deployment is not null)
        {
            await _deployment.DisposeAsync();
        }
    }

    [Fact]
    public Task WriterReviewer_SeparateProcessesOverRabbitMq_StreamsEveryTokenOfBothStepsInOrderThenCompletes() =>
        WriterReviewerScenario.RunAsync(_deployment!, tenant: "tenant-distributed");
}

using Temporalio.Client;
using Temporalio.Worker;

namespace AgentOrchestrator.DevServer.Tests;

/// <summary>Runs an SDK worker for the duration of a test on its own task queue.</summary>
internal sealed class WorkerScope : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _run;

    private WorkerScope(TemporalWorker worker)
    {
        Worker = worker;
        _run = worker.ExecuteAsync(_stop.Token);
    }

    public TemporalWorker Worker { get; }

    public static WorkerScope Start(ITemporalClient client, TemporalWorkerOptions options) => new(new TemporalWorker(client, options));

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try
        {
            await _run;
        }
        catch (OperationCanceledException)
        {
        }
        Worker.Dispose();
        _stop.Dispose();
    }
}

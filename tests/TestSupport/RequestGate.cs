namespace AgentOrchestrator.TestSupport;

/// <summary>
/// Holds every request sent through its handlers until <see cref="Open"/> (register with
/// <c>AddHttpClient(name).AddHttpMessageHandler(gate.CreateHandler)</c>): a test starts runs, watches them, then lets
/// the model answer, so what it watches cannot have happened before it looked.
/// </summary>
public sealed class RequestGate
{
    private readonly TaskCompletionSource _open = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Open() => _open.TrySetResult();

    public DelegatingHandler CreateHandler() => new GateHandler(_open.Task);

    private sealed class GateHandler(Task open) : DelegatingHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            await open.WaitAsync(cancellationToken);
            return await base.SendAsync(request, cancellationToken);
        }
    }
}

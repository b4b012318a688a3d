namespace AgentOrchestrator.Client;

/// <summary>
/// Sits in the hub connection's HTTP pipeline (negotiate) and remembers the Retry-After of a 429/503, which the
/// SignalR client's exception does not carry, so a rejected connect waits as long as the gateway asked.
/// </summary>
internal sealed class RetryAfterCapture(HttpMessageHandler inner) : DelegatingHandler(inner)
{
    private long _retryAfterTicks = -1;

    public TimeSpan? RetryAfter => Interlocked.Read(ref _retryAfterTicks) is >= 0 and var ticks ? TimeSpan.FromTicks(ticks) : null;

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var response = await base.SendAsync(request, cancellationToken);
        if (ErrorMapping.RetryAfterOf(response) is { } retryAfter)
        {
            Interlocked.Exchange(ref _retryAfterTicks, retryAfter.Ticks);
        }
        return response;
    }
}

namespace AgentOrchestrator.TestSupport;

/// <summary>
/// Gives the first request sent through its handlers (process-wide, across every handler it created) the model
/// simulator's fault header, e.g. "cut:3"; later requests go out untouched. Register with
/// <c>AddHttpClient(name).AddHttpMessageHandler(fault.CreateHandler)</c>.
/// </summary>
public sealed class FirstRequestFault(string spec)
{
    public const string HeaderName = "X-Simulator-Fault";

    private int _requests;

    /// <summary>A handler sharing this instance's request count (the HTTP client factory creates several).</summary>
    public DelegatingHandler CreateHandler() => new FaultHeaderHandler(this);

    private string? Next() => Interlocked.Increment(ref _requests) == 1 ? spec : null;

    private sealed class FaultHeaderHandler(FirstRequestFault fault) : DelegatingHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (fault.Next() is { } faultSpec)
            {
                request.Headers.Add(HeaderName, faultSpec);
            }
            return base.SendAsync(request, cancellationToken);
        }
    }
}

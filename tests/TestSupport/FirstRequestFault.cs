namespace AgentOrchestrator.TestSupport;

/// <summary>
/// Gives the first request sent through its handlers (process-wide, across every handler it created) the model
/// simulator's fault header, e.g. "cut:3"; later requests go out untouched. Register with
/// <c>AddHttpClient(name).AddHttpMessageHandler(fault.CreateHandler)</c>. With <paramref name="release"/>, the first
/// request goes out only once that task completes: a test can make sure it watches before the fault happens.
/// </summary>
public sealed class FirstRequestFault(string spec, Task? release = null)
{
    public const string HeaderName = "X-Simulator-Fault";

    private readonly Task? _release = release;
    private int _requests;

    /// <summary>A handler sharing this instance's request count (the HTTP client factory creates several).</summary>
    public DelegatingHandler CreateHandler() => new FaultHeaderHandler(this);

    private string? Next() => Interlocked.Increment(ref _requests) == 1 ? spec : null;

    private sealed class FaultHeaderHandler(FirstRequestFault fault) : DelegatingHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (fault.Next() is { } faultSpec)
            {
                request.Headers.Add(HeaderName, faultSpec);
                if (fault._release is { } release)
                {
                    await release.WaitAsync(cancellationToken);
                }
            }
            return await base.SendAsync(request, cancellationToken);
        }
    }
}

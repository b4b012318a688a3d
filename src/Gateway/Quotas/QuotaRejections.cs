using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Logging;

namespace AgentOrchestrator.Gateway.Quotas;

/// <summary>
/// Every refusal goes through here: counted in metrics and per tenant on this node (for the admin usage endpoint),
/// logged (Debug), then answered in the caller's protocol.
/// </summary>
public sealed class QuotaRejections(QuotaMetrics metrics, ILogger<QuotaRejections> logger)
{
    private readonly ConcurrentDictionary<string, StrongBox<long>> _counts = new(StringComparer.Ordinal);

    /// <summary>Requests of the tenant this node refused since it started.</summary>
    public long CountOf(string tenant) => _counts.TryGetValue(tenant, out var count) ? Interlocked.Read(ref count.Value) : 0;

    public QuotaRejection Record(string tenant, QuotaRejection rejection)
    {
        metrics.Rejected(tenant, rejection);
        Interlocked.Increment(ref _counts.GetOrAdd(tenant, static _ => new StrongBox<long>()).Value);
        QuotaLog.Rejected(logger, tenant, rejection.Code, rejection.Message);
        return rejection;
    }

    public Task WriteAsync(HttpContext http, string tenant, QuotaRejection rejection) => Record(tenant, rejection).WriteAsync(http);

    public HubException HubError(string tenant, QuotaRejection rejection) => Record(tenant, rejection).ToHubException();
}

using System.Collections.Concurrent;
using AgentOrchestrator.Gateway.Runs;
using Microsoft.Extensions.Logging;
using Temporalio.Client;
using Temporalio.Exceptions;

namespace AgentOrchestrator.Gateway.Quotas;

/// <summary>
/// The run-start quotas: a per-tenant token bucket (per node) and the tenant's running workflows, counted cluster-wide
/// through Temporal visibility (search attribute TenantId). While a tenant has a concurrent-run limit its starts on
/// this node are serialized, so this node never admits more than the limit on a fresh count (a slow start, such as a
/// slowly sent body, delays only that tenant's other starts); see <see cref="QuotaOptions.ConcurrentRunsCacheTtl"/>
/// for the cross-node window. Buckets and counts are kept per tenant that has started something (a few hundred bytes each).
/// </summary>
public sealed class RunStartGate(QuotaSettings settings, ITemporalClient temporal, TimeProvider time, QuotaRejections rejections,
    ILogger<RunStartGate> logger)
{
    private readonly ConcurrentDictionary<string, TokenBucket> _buckets = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, RunningCount> _running = new(StringComparer.Ordinal);

    /// <summary>
    /// Calls <paramref name="start"/> (which returns whether it started a run) when the tenant's quotas allow it;
    /// otherwise returns the recorded rejection and calls nothing.
    /// </summary>
    public async Task<QuotaRejection?> RunAsync(string tenant, Func<Task<bool>> start, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(start);
        var limits = settings.For(tenant);
        if (limits.RunStartsPerMinute is { } perMinute)
        {
            var burst = limits.RunStartBurst ?? (int)Math.Max(1, perMinute / 6);
            var bucket = _buckets.GetOrAdd(tenant, static _ => new TokenBucket());
            if (!bucket.TryTake(perMinute / 60, burst, time, out var retryAfter))
            {
                return rejections.Record(tenant, QuotaRejection.StartRate(retryAfter));
            }
        }
        if (limits.MaxConcurrentRuns is not { } maxRunning)
        {
            await start();
            return null;
        }
        var running = _running.GetOrAdd(tenant, static _ => new RunningCount());
        await running.Gate.WaitAsync(cancellationToken);
        try
        {
            long count;
            try
            {
                count = await CountAsync(tenant, running, cancellationToken);
            }
            catch (RpcException e)
            {
                // Visibility unreachable: the start goes ahead and reports Temporal's state itself (503 when it is down).
                QuotaLog.CountFailed(logger, tenant, e.Message);
                await start();
                return null;
            }
            if (count >= maxRunning)
            {
                return rejections.Record(tenant, QuotaRejection.ConcurrentRuns(count, maxRunning, settings.Current.RetryAfterSeconds));
            }
            if (await start())
            {
                // Visibility may not show the new run yet: count it here until the next refresh.
                running.Count = count + 1;
            }
            return null;
        }
        finally
        {
            running.Gate.Release();
        }
    }

    /// <summary>
    /// The tenant's running runs cluster-wide, as the concurrent-run quota sees them (the same short-lived cache).
    /// Throws <see cref="RpcException"/> when Temporal visibility is unreachable.
    /// </summary>
    public async Task<long> CountRunningAsync(string tenant, CancellationToken cancellationToken)
    {
        var running = _running.GetOrAdd(tenant, static _ => new RunningCount());
        await running.Gate.WaitAsync(cancellationToken);
        try
        {
            return await CountAsync(tenant, running, cancellationToken);
        }
        finally
        {
            running.Gate.Release();
        }
    }

    private async Task<long> CountAsync(string tenant, RunningCount running, CancellationToken cancellationToken)
    {
        var now = time.GetTimestamp();
        if (running.FetchedAt is { } fetchedAt && time.GetElapsedTime(fetchedAt, now) < settings.Current.ConcurrentRunsCacheTtl)
        {
            return running.Count;
        }
        // Tenant ids are restricted to [A-Za-z0-9._-], so the value cannot break out of the quoted literal.
        var query = $"{RunSearchAttributes.TenantId.Name} = '{tenant}' AND ExecutionStatus = 'Running'";
        var counted = await temporal.CountWorkflowsAsync(query, new WorkflowCountOptions { Rpc = new RpcOptions { CancellationToken = cancellationToken } });
        running.Count = counted.Count;
        running.FetchedAt = now;
        QuotaLog.RunningCounted(logger, tenant, counted.Count);
        return counted.Count;
    }

    /// <summary>Guarded by <see cref="Gate"/>.</summary>
    private sealed class RunningCount
    {
        public SemaphoreSlim Gate { get; } = new(1, 1);

        public long Count { get; set; }

        public long? FetchedAt { get; set; }
    }
}

using System.Collections.Concurrent;
using System.Runtime.CompilerServices;

namespace AgentOrchestrator.Gateway.Quotas;

/// <summary>Open SignalR connections per tenant on this gateway process (MaxConnections is a per-node limit).</summary>
public sealed class TenantConnections
{
    private readonly ConcurrentDictionary<string, StrongBox<int>> _counts = new(StringComparer.Ordinal);

    public int Count(string tenant) => _counts.TryGetValue(tenant, out var count) ? Volatile.Read(ref count.Value) : 0;

    /// <summary>Every tenant that has connected since start with its current count (0 once all left), for the connections gauge.</summary>
    public IEnumerable<KeyValuePair<string, int>> Counts()
    {
        foreach (var (tenant, count) in _counts)
        {
            yield return new(tenant, Volatile.Read(ref count.Value));
        }
    }

    /// <summary>Counts one more connection unless that would exceed <paramref name="limit"/> (null: no limit).</summary>
    public bool TryAdd(string tenant, int? limit)
    {
        var count = _counts.GetOrAdd(tenant, static _ => new StrongBox<int>());
        while (true)
        {
            var current = Volatile.Read(ref count.Value);
            if (limit is { } max && current >= max)
            {
                return false;
            }
            if (Interlocked.CompareExchange(ref count.Value, current + 1, current) == current)
            {
                return true;
            }
        }
    }

    public void Remove(string tenant)
    {
        if (_counts.TryGetValue(tenant, out var count))
        {
            Interlocked.Decrement(ref count.Value);
        }
    }
}

using System.Collections.Concurrent;
using AgentOrchestrator.RunStreaming.Delivery;
using Microsoft.Extensions.Options;

namespace AgentOrchestrator.RunStreaming.Subscribers;

/// <summary>
/// Subscribers of this gateway (<see cref="LocalSubscriber"/>) plus the latest positions other gateways published
/// (<see cref="SubscriberPositionsDigest"/>). Records are keyed by tenant and subscription id, so a subscription id
/// never reaches another tenant's subscriber. Disconnected records stay <see cref="DeliveryOptions.SubscriberRetention"/>.
/// </summary>
internal sealed class SubscriberRegistry(GatewayInstance instance, TimeProvider time, IOptions<DeliveryOptions> options)
{
    private readonly ConcurrentDictionary<string, LocalSubscriber> _local = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, SubscriberPosition> _remote = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, DateTimeOffset> _instancesSeen = new(StringComparer.Ordinal);

    public string InstanceId => instance.Id;

    /// <summary>Starts (or, for a known subscription id on this gateway, resumes) tracking a subscriber.</summary>
    public LocalSubscriber Open(string tenantId, string runId, string subscriptionId, string? subject, string transport)
    {
        var now = time.GetUtcNow();
        var key = Key(tenantId, subscriptionId);
        while (true)
        {
            if (_local.TryGetValue(key, out var existing) && existing.RunId == runId)
            {
                existing.Reconnected(transport);
                return existing;
            }
            var remote = _remote.GetValueOrDefault(key);
            var created = new LocalSubscriber(new SubscriberPosition
            {
                SubscriptionId = subscriptionId,
                TenantId = tenantId,
                RunId = runId,
                Subject = subject,
                Transport = transport,
                GatewayInstance = instance.Id,
                // Positions carry over from the gateway that served this subscription before.
                Delivered = remote?.RunId == runId ? remote.Delivered : null,
                Acknowledged = remote?.RunId == runId ? remote.Acknowledged : null,
                LastAckAt = remote?.RunId == runId ? remote.LastAckAt : null,
                Connected = true,
                ConnectedAt = now,
                UpdatedAt = now,
            }, time);
            if (existing is null ? _local.TryAdd(key, created) : _local.TryUpdate(key, created, existing))
            {
                return created;
            }
        }
    }

    /// <summary>The run a subscription id belongs to in this tenant, from any gateway; null when unknown.</summary>
    public SubscriberPosition? Find(string tenantId, string subscriptionId)
    {
        var key = Key(tenantId, subscriptionId);
        var local = _local.TryGetValue(key, out var subscriber) ? subscriber.Snapshot() : null;
        var remote = _remote.GetValueOrDefault(key);
        if (local is null || remote is null)
        {
            return local ?? remote;
        }
        return remote.UpdatedAt > local.UpdatedAt ? remote : local;
    }

    /// <summary>All known subscribers of a run (this gateway's and the others'), the newest record per subscription.</summary>
    public IReadOnlyList<SubscriberPosition> List(string tenantId, string runId)
    {
        var now = time.GetUtcNow();
        var byId = new Dictionary<string, SubscriberPosition>(StringComparer.Ordinal);
        foreach (var subscriber in _local.Values)
        {
            if (subscriber.TenantId == tenantId && subscriber.RunId == runId)
            {
                var position = subscriber.Snapshot();
                byId[position.SubscriptionId] = position;
            }
        }
        foreach (var position in _remote.Values)
        {
            if (position.TenantId != tenantId || position.RunId != runId)
            {
                continue;
            }
            // A gateway that stopped publishing digests is gone, and so are its connections.
            var alive = _instancesSeen.TryGetValue(position.GatewayInstance, out var seen) && seen + options.Value.InstanceExpiry > now;
            var shown = alive ? position : position with { Connected = false };
            if (!byId.TryGetValue(shown.SubscriptionId, out var current) || shown.UpdatedAt > current.UpdatedAt)
            {
                byId[shown.SubscriptionId] = shown;
            }
        }
        return [.. byId.Values.OrderBy(p => p.ConnectedAt)];
    }

    /// <summary>Local records changed since the last call (for the next digest).</summary>
    public IReadOnlyList<SubscriberPosition> TakeChanged()
    {
        var changed = new List<SubscriberPosition>();
        foreach (var subscriber in _local.Values)
        {
            if (subscriber.Dirty)
            {
                changed.Add(subscriber.Snapshot(clearDirty: true));
            }
        }
        return changed;
    }

    /// <summary>A digest that could not be sent: its records go into the next one.</summary>
    public void MarkChanged(IEnumerable<SubscriberPosition> positions)
    {
        ArgumentNullException.ThrowIfNull(positions);
        foreach (var position in positions)
        {
            if (_local.TryGetValue(Key(position.TenantId, position.SubscriptionId), out var subscriber))
            {
                subscriber.MarkDirty();
            }
        }
    }

    /// <summary>Takes another gateway's digest (this gateway's own are ignored).</summary>
    public void Apply(SubscriberPositionsDigest digest)
    {
        ArgumentNullException.ThrowIfNull(digest);
        if (digest.InstanceId == instance.Id)
        {
            return;
        }
        _instancesSeen[digest.InstanceId] = time.GetUtcNow();
        foreach (var entry in digest.Entries)
        {
            _remote.AddOrUpdate(Key(entry.TenantId, entry.SubscriptionId), entry,
                (_, current) => entry.UpdatedAt >= current.UpdatedAt ? entry : current);
        }
    }

    /// <summary>Drops disconnected records past the retention and gateways long gone.</summary>
    public void Sweep()
    {
        var now = time.GetUtcNow();
        var retention = options.Value.SubscriberRetention;
        foreach (var (key, subscriber) in _local)
        {
            var position = subscriber.Snapshot();
            if (!position.Connected && position.UpdatedAt + retention <= now)
            {
                _local.TryRemove(new KeyValuePair<string, LocalSubscriber>(key, subscriber));
            }
        }
        foreach (var (key, position) in _remote)
        {
            if (position.UpdatedAt + retention <= now)
            {
                _remote.TryRemove(new KeyValuePair<string, SubscriberPosition>(key, position));
            }
        }
        foreach (var (id, seen) in _instancesSeen)
        {
            if (seen + retention <= now)
            {
                _instancesSeen.TryRemove(new KeyValuePair<string, DateTimeOffset>(id, seen));
            }
        }
    }

    private static string Key(string tenantId, string subscriptionId) => $"{tenantId}/{subscriptionId}";
}

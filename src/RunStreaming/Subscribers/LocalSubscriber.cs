using AgentOrchestrator.Contracts;
using AgentOrchestrator.RunStreaming.Delivery;

namespace AgentOrchestrator.RunStreaming.Subscribers;

/// <summary>A subscriber served by this gateway: its delivered and acknowledged cursors. Thread-safe.</summary>
internal sealed class LocalSubscriber
{
    // Recent delivered ids and their ordinals, to turn an acknowledged cursor into a lag; bounded.
    private const int RecentCapacity = 8192;

    private readonly Lock _gate = new();
    private readonly Dictionary<string, long> _ordinals = new(StringComparer.Ordinal);
    private readonly Queue<string> _recent = new();
    private readonly TimeProvider _time;
    private long _deliveredCount;
    private long _ackedOrdinal;
    private SubscriberPosition _position;
    private SubscriberOutbox? _outbox;
    private long _peakQueuedBytes;
    private long _coalescedBefore;
    // Per-event state lives in fields (no allocation per delivered event); Snapshot composes the record.
    private string? _delivered;
    private DateTimeOffset _deliveredAt;

    internal LocalSubscriber(SubscriberPosition position, TimeProvider time)
    {
        _position = position;
        _time = time;
    }

    public string SubscriptionId => _position.SubscriptionId;

    public string TenantId => _position.TenantId;

    public string RunId => _position.RunId;

    public string Transport => _position.Transport;

    internal bool Dirty { get; private set; } = true;

    public void Delivered(RunEvent runEvent)
    {
        ArgumentNullException.ThrowIfNull(runEvent);
        lock (_gate)
        {
            _deliveredCount++;
            _ordinals[runEvent.Id] = _deliveredCount;
            _recent.Enqueue(runEvent.Id);
            if (_recent.Count > RecentCapacity)
            {
                _ordinals.Remove(_recent.Dequeue());
            }
            _delivered = runEvent.Id;
            _deliveredAt = _time.GetUtcNow();
            Dirty = true;
        }
    }

    /// <summary>Records the client's rendered position; returns the lag (delivered minus acknowledged) when known.</summary>
    public long? Acknowledge(string cursor)
    {
        lock (_gate)
        {
            long? lag = null;
            if (_ordinals.TryGetValue(cursor, out var ordinal))
            {
                _ackedOrdinal = Math.Max(_ackedOrdinal, ordinal);
                lag = _deliveredCount - _ackedOrdinal;
            }
            var now = _time.GetUtcNow();
            _position = _position with { Acknowledged = cursor, LastAckAt = now, UpdatedAt = now };
            Dirty = true;
            return lag;
        }
    }

    /// <summary>The connection or stream ended; the record stays (for resume by subscription id) until the retention passes.</summary>
    public void Disconnected()
    {
        lock (_gate)
        {
            _position = _position with { Connected = false, UpdatedAt = _time.GetUtcNow() };
            Dirty = true;
            // Acks arrive on a connection: the ids kept to turn one into a lag are not needed once it is gone, and the
            // record itself stays an hour (holding up to RecentCapacity event ids each would outweigh the run's own tail).
            _ordinals.Clear();
            _ordinals.TrimExcess();
            _recent.Clear();
            _recent.TrimExcess();
            // The closed queue is kept only for its figures.
            if (_outbox is not null)
            {
                _peakQueuedBytes = Math.Max(_peakQueuedBytes, _outbox.PeakBytes);
                _coalescedBefore += _outbox.CoalescedCount;
                _outbox = null;
            }
        }
    }

    /// <summary>Served again (resume by subscription id on this gateway): the positions carry on.</summary>
    internal void Reconnected(string transport)
    {
        lock (_gate)
        {
            var now = _time.GetUtcNow();
            _position = _position with { Connected = true, Transport = transport, ConnectedAt = now, UpdatedAt = now };
            Dirty = true;
        }
    }

    /// <summary>The outbound queue now serving this subscriber (a new one per connection).</summary>
    public void Attach(SubscriberOutbox outbox)
    {
        lock (_gate)
        {
            if (_outbox is not null)
            {
                _peakQueuedBytes = Math.Max(_peakQueuedBytes, _outbox.PeakBytes);
                _coalescedBefore += _outbox.CoalescedCount;
            }
            _outbox = outbox;
        }
    }

    internal void MarkDirty()
    {
        lock (_gate)
        {
            Dirty = true;
        }
    }

    public SubscriberPosition Snapshot(bool clearDirty = false)
    {
        lock (_gate)
        {
            if (clearDirty)
            {
                Dirty = false;
            }
            var position = _delivered is null
                ? _position
                : _position with
                {
                    Delivered = _delivered,
                    Lag = _deliveredCount - _ackedOrdinal,
                    UpdatedAt = _deliveredAt > _position.UpdatedAt ? _deliveredAt : _position.UpdatedAt,
                };
            return position with
            {
                PeakQueuedBytes = Math.Max(_peakQueuedBytes, _outbox?.PeakBytes ?? 0),
                Coalesced = _coalescedBefore + (_outbox?.CoalescedCount ?? 0),
            };
        }
    }
}

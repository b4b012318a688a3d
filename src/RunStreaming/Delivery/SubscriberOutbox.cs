using System.Text;
using AgentOrchestrator.Contracts;
using AgentOrchestrator.RunStreaming.Telemetry;

namespace AgentOrchestrator.RunStreaming.Delivery;

/// <summary>
/// One subscriber's outbound queue. The feed writes without ever blocking; the connection reads at its own pace.
/// Bounded in events and (estimated) bytes: above the soft limit, token deltas of one step attempt queued after the
/// last control event merge into one (id and index of the last merged delta, texts concatenated); a control or
/// lifecycle event arriving into a backlog first coalesces every run of queued deltas, so it waits behind at most one
/// delta per step attempt and the causal order is kept. Past the hard limit the queue is dropped and the reader gets
/// <see cref="SlowConsumerException"/>: the client resumes with its cursor. Memory per subscriber is at most the hard
/// byte limit plus two events (a long lifecycle event being written and the one arriving).
/// </summary>
internal sealed class SubscriberOutbox
{
    private const int EventOverheadBytes = 160;
    private const int DataEstimateBytes = 512;

    private readonly Lock _gate = new();
    private readonly LinkedList<RunEvent> _items = new();
    // The last queued delta per step attempt after the last control event: where a new delta may merge.
    private readonly Dictionary<(string Step, int Attempt), LinkedListNode<RunEvent>> _open = [];
    // Text of merged deltas, appended in place: building a new string per merge would copy the whole backlog each time
    // (quadratic CPU on the feed's thread, which every subscriber shares). The node's Text is stale while it is here.
    private readonly Dictionary<LinkedListNode<RunEvent>, MergedDeltas> _mergedText = [];
    // When traced token deltas were queued (Unix µs), for the gateway's enqueue-to-written hop; a merge keeps the oldest.
    private readonly Dictionary<LinkedListNode<RunEvent>, long> _enqueuedAt = [];
    private readonly DeliveryOptions _limits;
    private readonly DeliveryMetrics? _metrics;
    private long _bytes;
    private bool _completed;
    private SlowConsumerException? _failure;
    private TaskCompletionSource? _waiter;

    public SubscriberOutbox(DeliveryOptions limits, DeliveryMetrics? metrics = null)
    {
        ArgumentNullException.ThrowIfNull(limits);
        _limits = limits;
        _metrics = metrics;
    }

    /// <summary>Largest number of events this queue held at once.</summary>
    public int PeakCount { get; private set; }

    /// <summary>Largest estimated size this queue reached, in bytes.</summary>
    public long PeakBytes { get; private set; }

    /// <summary>Deltas merged into another queued delta so far.</summary>
    public long CoalescedCount { get; private set; }

    /// <summary>When the event the last read returned was queued (Unix µs), if it was stamped; otherwise 0. One reader.</summary>
    public long LastReadEnqueuedAtUs { get; private set; }

    /// <summary>
    /// Queues an event; false when the queue is closed or this event pushed it past the hard limit (it then fails).
    /// <paramref name="enqueuedAtUs"/>: its enqueue stamp (a traced token delta), returned with it by <see cref="LastReadEnqueuedAtUs"/>.
    /// </summary>
    public bool Enqueue(RunEvent runEvent, long enqueuedAtUs = 0)
    {
        ArgumentNullException.ThrowIfNull(runEvent);
        TaskCompletionSource? wake;
        bool accepted;
        lock (_gate)
        {
            if (_completed || _failure is not null)
            {
                return false;
            }
            var waitingBefore = _items.First is { Value.Type: not RunEventTypes.Token } oldest ? _bytes - SizeOf(oldest) : _bytes;
            var backlog = _items.Count >= _limits.SoftLimitEvents || _bytes >= _limits.SoftLimitBytes;
            if (runEvent.Type == RunEventTypes.Token)
            {
                var key = (runEvent.Step ?? string.Empty, runEvent.Attempt);
                if (backlog && _open.TryGetValue(key, out var node))
                {
                    Merge(node, runEvent);
                }
                else
                {
                    var added = _items.AddLast(runEvent);
                    _open[key] = added;
                    _bytes += SizeOf(runEvent);
                    if (enqueuedAtUs != 0)
                    {
                        _enqueuedAt[added] = enqueuedAtUs;
                    }
                }
            }
            else
            {
                if (backlog)
                {
                    CoalesceQueuedDeltas();
                }
                _items.AddLast(runEvent);
                _bytes += SizeOf(runEvent);
                _open.Clear();
            }
            PeakCount = Math.Max(PeakCount, _items.Count);
            PeakBytes = Math.Max(PeakBytes, _bytes);
            // Bytes count what was queued before this event arrived, less the oldest event when it is a lifecycle
            // event: one long step.completed (holding the step's whole text) being written is not falling behind.
            // Memory per subscriber is therefore at most the hard limit plus that event and the arriving one.
            if (_items.Count > _limits.HardLimitEvents || waitingBefore > _limits.HardLimitBytes)
            {
                FailLocked($"[slow_consumer] The subscriber fell behind by more than {_limits.HardLimitEvents} events or {_limits.HardLimitBytes} bytes and was disconnected; subscribe again with the id of the last event received as cursor.");
                _metrics?.SlowConsumerDisconnected();
            }
            accepted = _failure is null;
            wake = _waiter;
            _waiter = null;
        }
        wake?.TrySetResult();
        return accepted;
    }

    /// <summary>No more events: the reader drains what is queued, then sees the end.</summary>
    public void Complete()
    {
        TaskCompletionSource? wake;
        lock (_gate)
        {
            _completed = true;
            wake = _waiter;
            _waiter = null;
        }
        wake?.TrySetResult();
    }

    /// <summary>Ends the subscription now: queued events are dropped and the reader gets <see cref="SlowConsumerException"/> with <paramref name="message"/>.</summary>
    public void Fail(string message)
    {
        TaskCompletionSource? wake;
        lock (_gate)
        {
            if (_completed || _failure is not null)
            {
                return;
            }
            FailLocked(message);
            wake = _waiter;
            _waiter = null;
        }
        wake?.TrySetResult();
    }

    /// <summary>True when the subscription ended for falling behind (or its tail was dropped).</summary>
    public bool Failed
    {
        get
        {
            lock (_gate)
            {
                return _failure is not null;
            }
        }
    }

    public bool TryRead(out RunEvent? runEvent)
    {
        lock (_gate)
        {
            if (_failure is not null)
            {
                throw _failure;
            }
            return TryDequeueLocked(out runEvent);
        }
    }

    /// <summary>The next event; null after the end; throws <see cref="SlowConsumerException"/> once the queue failed.</summary>
    public async ValueTask<RunEvent?> ReadAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            Task wait;
            lock (_gate)
            {
                if (_failure is not null)
                {
                    throw _failure;
                }
                if (TryDequeueLocked(out var runEvent))
                {
                    return runEvent;
                }
                if (_completed)
                {
                    return null;
                }
                _waiter ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                wait = _waiter.Task;
            }
            await wait.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private void FailLocked(string message)
    {
        _failure = new SlowConsumerException(message);
        _items.Clear();
        _open.Clear();
        _mergedText.Clear();
        _enqueuedAt.Clear();
        _bytes = 0;
    }

    private bool TryDequeueLocked(out RunEvent? runEvent)
    {
        var node = _items.First;
        if (node is null)
        {
            runEvent = null;
            return false;
        }
        _bytes -= SizeOf(node);
        _items.RemoveFirst();
        runEvent = node.Value;
        if (_mergedText.Remove(node, out var merged))
        {
            // Ids of merged deltas name the range: as a cursor it covers the first delta's position and every delta merged.
            runEvent = runEvent with
            {
                Text = merged.Text.ToString(),
                Id = RunEventIds.ForTokenRange(runEvent.RunId, runEvent.Step ?? string.Empty, runEvent.Attempt, merged.FirstIndex, runEvent.Index),
            };
        }
        LastReadEnqueuedAtUs = _enqueuedAt.Remove(node, out var enqueuedAtUs) ? enqueuedAtUs : 0;
        if (runEvent.Type == RunEventTypes.Token)
        {
            var key = (runEvent.Step ?? string.Empty, runEvent.Attempt);
            if (_open.TryGetValue(key, out var open) && ReferenceEquals(open, node))
            {
                _open.Remove(key);
            }
        }
        return true;
    }

    /// <summary>Within each run of consecutive deltas (between control events), one delta per step attempt remains.</summary>
    private void CoalesceQueuedDeltas()
    {
        var segment = new Dictionary<(string Step, int Attempt), LinkedListNode<RunEvent>>();
        var node = _items.First;
        while (node is not null)
        {
            var next = node.Next;
            if (node.Value.Type != RunEventTypes.Token)
            {
                segment.Clear();
            }
            else
            {
                var key = (node.Value.Step ?? string.Empty, node.Value.Attempt);
                if (segment.TryGetValue(key, out var first))
                {
                    _bytes -= SizeOf(node);
                    _items.Remove(node);
                    _enqueuedAt.Remove(node);
                    var later = _mergedText.Remove(node, out var merged) ? node.Value with { Text = merged.Text.ToString() } : node.Value;
                    Merge(first, later);
                }
                else
                {
                    segment[key] = node;
                }
            }
            node = next;
        }
    }

    /// <summary>
    /// Both texts, the later delta's index, the earlier one's offset: a client that keeps text by offset (or, without
    /// offsets, deduplicates by index) takes it whole. Its id (a range id) is set when it is read.
    /// </summary>
    private void Merge(LinkedListNode<RunEvent> into, RunEvent later)
    {
        var sizeBefore = SizeOf(into);
        if (!_mergedText.TryGetValue(into, out var merged))
        {
            merged = new MergedDeltas(new StringBuilder(into.Value.Text), into.Value.Index);
            _mergedText[into] = merged;
        }
        merged.Text.Append(later.Text);
        into.Value = into.Value with { Index = later.Index, Ts = later.Ts };
        _bytes += SizeOf(into) - sizeBefore;
        CoalescedCount++;
        _metrics?.DeltaCoalesced();
    }

    private long SizeOf(LinkedListNode<RunEvent> node) =>
        _mergedText.TryGetValue(node, out var merged)
            ? SizeOf(node.Value) + (2L * (merged.Text.Length - (node.Value.Text?.Length ?? 0)))
            : SizeOf(node.Value);

    /// <summary>Text of merged deltas, appended in place, and the index of the first one merged.</summary>
    private sealed record MergedDeltas(StringBuilder Text, long FirstIndex);

    private static long SizeOf(RunEvent e) =>
        EventOverheadBytes
        + (2L * (e.Id.Length + (e.Text?.Length ?? 0) + e.Type.Length + (e.Step?.Length ?? 0) + (e.Agent?.Length ?? 0)))
        + (e.Data is null ? 0 : DataEstimateBytes);
}

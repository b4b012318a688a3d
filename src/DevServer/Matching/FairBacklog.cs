namespace AgentOrchestrator.DevServer.Matching;

/// <summary>
/// A task backlog ordered by priority key first, then weighted fair across fairness keys (stride
/// scheduling: each key advances its pass by 1/weight per dispatch and the lowest pass goes next), so
/// keys weighted 3:1 are served 3:1 while both have work. Not thread-safe: the owning queue locks.
/// </summary>
internal sealed class FairBacklog<T>
{
    private readonly PriorityLevel[] _levels = new PriorityLevel[DispatchKey.MaxPriorityKey + 1];

    public int Count { get; private set; }

    public void Enqueue(T item, DispatchKey key, bool atFront = false)
    {
        var level = _levels[key.PriorityKey] ??= new PriorityLevel();
        level.Enqueue(item, key, atFront);
        Count++;
    }

    public bool TryDequeue(out T item)
    {
        for (var i = 1; i < _levels.Length; i++)
        {
            var level = _levels[i];
            if (level is not null && level.TryDequeue(out item))
            {
                Count--;
                return true;
            }
        }
        item = default!;
        return false;
    }

    private sealed class PriorityLevel
    {
        private readonly Dictionary<string, FairnessBucket> _buckets = new(StringComparer.Ordinal);
        private readonly PriorityQueue<FairnessBucket, (double Pass, long Order)> _ready = new();
        private double _virtualTime;
        private long _order;

        public void Enqueue(T item, DispatchKey key, bool atFront)
        {
            if (!_buckets.TryGetValue(key.FairnessKey, out var bucket))
            {
                bucket = new FairnessBucket();
                _buckets.Add(key.FairnessKey, bucket);
            }
            bucket.Weight = key.FairnessWeight;
            if (atFront)
            {
                bucket.Items.AddFirst(item);
            }
            else
            {
                bucket.Items.AddLast(item);
            }
            if (bucket.Items.Count == 1)
            {
                // A key that was idle does not bank credit: it re-enters at the current virtual time.
                bucket.Pass = Math.Max(bucket.Pass, _virtualTime);
                _ready.Enqueue(bucket, (bucket.Pass, _order++));
            }
        }

        public bool TryDequeue(out T item)
        {
            if (!_ready.TryDequeue(out var bucket, out _))
            {
                item = default!;
                return false;
            }
            item = bucket.Items.First!.Value;
            bucket.Items.RemoveFirst();
            _virtualTime = bucket.Pass;
            bucket.Pass += 1.0 / bucket.Weight;
            if (bucket.Items.Count > 0)
            {
                _ready.Enqueue(bucket, (bucket.Pass, _order++));
            }
            return true;
        }
    }

    private sealed class FairnessBucket
    {
        public LinkedList<T> Items { get; } = new();

        public double Pass { get; set; }

        public float Weight { get; set; } = 1f;
    }
}

using System.Collections.Concurrent;

namespace AgentOrchestrator.RunStreaming.Delivery;

/// <summary>
/// When this gateway accepted each run start it made: the origin of the time to first token a person sees. Entries
/// are kept <see cref="Retention"/>; runs started elsewhere are measured from their run.started event instead.
/// </summary>
public sealed class RunStartClock(TimeProvider time)
{
    public static readonly TimeSpan Retention = TimeSpan.FromMinutes(10);

    private readonly ConcurrentDictionary<string, long> _accepted = new(StringComparer.Ordinal);
    private long _sweptAt = time.GetTimestamp();

    /// <summary>The timestamp to pass to <see cref="Accepted"/> once the start succeeded.</summary>
    public long Now() => time.GetTimestamp();

    public void Accepted(string runId, long acceptedAt)
    {
        _accepted[runId] = acceptedAt;
        var swept = Interlocked.Read(ref _sweptAt);
        if (time.GetElapsedTime(swept) >= TimeSpan.FromMinutes(1) && Interlocked.CompareExchange(ref _sweptAt, time.GetTimestamp(), swept) == swept)
        {
            foreach (var (id, at) in _accepted)
            {
                if (time.GetElapsedTime(at) >= Retention)
                {
                    _accepted.TryRemove(new KeyValuePair<string, long>(id, at));
                }
            }
        }
    }

    /// <summary>How long ago this gateway accepted the start of <paramref name="runId"/>, when it did (recently).</summary>
    public TimeSpan? SinceAccepted(string runId) => _accepted.TryGetValue(runId, out var at) ? time.GetElapsedTime(at) : null;
}

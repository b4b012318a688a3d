using System.Collections.Concurrent;

namespace AgentOrchestrator.ModelSimulator.Faults;

/// <summary>Counts attempts per <c>fail-first</c> key so the first K of a series can fail (retry tests).</summary>
internal sealed class FailFirstTracker
{
    private readonly ConcurrentDictionary<string, int> _attempts = new(StringComparer.Ordinal);

    /// <summary>Records one attempt for <paramref name="key"/>; true while it is among the first <paramref name="failCount"/>.</summary>
    public bool RecordAttemptAndShouldFail(string key, int failCount, out int attempt)
    {
        attempt = _attempts.AddOrUpdate(key, 1, static (_, n) => n == int.MaxValue ? n : n + 1);
        return attempt <= failCount;
    }
}

namespace AgentOrchestrator.Gateway.Quotas;

/// <summary>
/// A token bucket whose rate and capacity are passed on each call, so a configuration change applies to the next
/// request. Starts full. Time comes from the caller's <see cref="TimeProvider"/> timestamps.
/// </summary>
internal sealed class TokenBucket
{
    private readonly Lock _lock = new();
    private double _tokens = double.NaN;
    private long _updatedAt;

    /// <summary>Takes one token; otherwise says how long until one is available.</summary>
    public bool TryTake(double perSecond, int capacity, TimeProvider time, out TimeSpan retryAfter)
    {
        var now = time.GetTimestamp();
        lock (_lock)
        {
            if (double.IsNaN(_tokens))
            {
                _tokens = capacity;
            }
            else
            {
                var elapsed = time.GetElapsedTime(_updatedAt, now).TotalSeconds;
                _tokens = Math.Min(capacity, _tokens + (elapsed * perSecond));
            }
            _updatedAt = now;
            if (_tokens >= 1)
            {
                _tokens -= 1;
                retryAfter = TimeSpan.Zero;
                return true;
            }
            retryAfter = TimeSpan.FromSeconds((1 - _tokens) / perSecond);
            return false;
        }
    }
}

using AgentOrchestrator.Contracts;

namespace AgentOrchestrator.RunStreaming.Ordering;

/// <summary>
/// A finished step attempt's deltas kept as one text: per delta (index k = 0..n-1) the position it was released at
/// and where its text starts. Replayed as one token event carrying the deltas a cursor does not cover.
/// </summary>
internal sealed class CompactedAttempt(string step, int attempt, string? agent, string text, long[] positions, int[] offsets, DateTimeOffset ts)
{
    private string? _text = text;

    public string Step { get; } = step;

    public int Attempt { get; } = attempt;

    public int Count => positions.Length;

    public long PositionOf(int index) => positions[index];

    /// <summary>The first delta released after <paramref name="position"/> whose index is above <paramref name="coveredUpTo"/>; <see cref="Count"/> if none.</summary>
    public int FirstAfter(long position, long coveredUpTo)
    {
        int low = (int)Math.Clamp(coveredUpTo + 1, 0, Count), high = Count;
        while (low < high)
        {
            var mid = (low + high) / 2;
            if (positions[mid] <= position)
            {
                low = mid + 1;
            }
            else
            {
                high = mid;
            }
        }
        return low;
    }

    /// <summary>One token event carrying deltas <paramref name="first"/>..n-1.</summary>
    public RunEvent Range(string runId, string tenantId, int first)
    {
        var text = _text ?? throw new InvalidOperationException("A superseded attempt is not replayed.");
        return new RunEvent
        {
            Id = RunEventIds.ForTokenRange(runId, Step, Attempt, first, Count - 1),
            RunId = runId,
            TenantId = tenantId,
            Type = RunEventTypes.Token,
            Step = Step,
            Agent = agent,
            Attempt = Attempt,
            Index = Count - 1,
            Text = text[offsets[first]..],
            Offset = offsets[first],
            Ts = ts,
        };
    }

    /// <summary>A later attempt replaced this one: only its positions stay (its ids remain valid cursors).</summary>
    public void Supersede() => _text = null;
}

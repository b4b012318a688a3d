using AgentOrchestrator.Contracts;

namespace AgentOrchestrator.Client;

/// <summary>
/// Decides which events of one run a consumer should see, so that each is seen once and superseded attempts not at
/// all. A token with an <see cref="RunEvent.Offset"/> (where its text starts in the step attempt's text) delivers only
/// the part beyond the text held for that attempt: a duplicate is dropped, a merged or compacted range overlapping
/// what is held is trimmed to its new part. A token without one is new when its index is past the last index held
/// (a coalesced token carries the index of the last delta it merged). Every other event is new when its id is; any
/// event of a step attempt older than one already seen is dropped. A <c>stream.reset</c> clears everything (the
/// gateway sends the whole transcript after it).
/// </summary>
public sealed class RunEventFilter
{
    private readonly HashSet<string> _seenIds = new(StringComparer.Ordinal);
    private readonly Dictionary<string, StepPosition> _steps = new(StringComparer.Ordinal);

    /// <summary>True when anything of <paramref name="runEvent"/> is new to the consumer (deliver what <see cref="Take"/> returns).</summary>
    public bool Accept(RunEvent runEvent) => Take(runEvent) is not null;

    /// <summary>
    /// What of <paramref name="runEvent"/> the consumer should see: the event itself, a copy of a token trimmed to the
    /// text not held yet (its <see cref="RunEvent.Offset"/> moved accordingly), or null when nothing of it is new.
    /// </summary>
    public RunEvent? Take(RunEvent runEvent)
    {
        ArgumentNullException.ThrowIfNull(runEvent);
        if (runEvent.Type == RunEventTypes.StreamReset)
        {
            Reset();
            return runEvent;
        }
        if (runEvent.Step is { } step && runEvent.Attempt > 0)
        {
            if (!_steps.TryGetValue(step, out var position) || runEvent.Attempt > position.Attempt)
            {
                position = new StepPosition(runEvent.Attempt);
                _steps[step] = position;
            }
            else if (runEvent.Attempt < position.Attempt)
            {
                return null;
            }
            if (runEvent.Type == RunEventTypes.Token)
            {
                return TakeToken(runEvent, position);
            }
        }
        return _seenIds.Add(runEvent.Id) ? runEvent : null;
    }

    /// <summary>Forgets everything seen (what a stream.reset does).</summary>
    public void Reset()
    {
        _seenIds.Clear();
        _steps.Clear();
    }

    private static RunEvent? TakeToken(RunEvent token, StepPosition position)
    {
        var length = token.Text?.Length ?? 0;
        if (token.Offset is not { } offset)
        {
            if (token.Index <= position.LastTokenIndex)
            {
                return null;
            }
            position.LastTokenIndex = token.Index;
            position.Held += length;
            return token;
        }
        var end = offset + length;
        if (end <= position.Held)
        {
            return null; // everything in it is held already
        }
        // In canonical order a range never starts past what is held; if one did, its text is taken whole.
        var skip = Math.Max(0, position.Held - offset);
        position.Held = end;
        position.LastTokenIndex = Math.Max(position.LastTokenIndex, token.Index);
        return skip == 0 ? token : token with { Text = token.Text![(int)skip..], Offset = offset + skip };
    }

    private sealed class StepPosition(int attempt)
    {
        public int Attempt { get; } = attempt;

        public long LastTokenIndex { get; set; } = -1;

        /// <summary>Characters of the attempt's text delivered so far.</summary>
        public long Held { get; set; }
    }
}

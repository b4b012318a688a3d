using AgentOrchestrator.Contracts;

namespace AgentOrchestrator.Client;

/// <summary>
/// Decides which events of one run a consumer should see, so that each is seen once and superseded attempts not at
/// all: a step's token is new when its index is past the last index held for the step's current attempt (a
/// coalesced token carries the index of the last delta it merged); every other event is new when its id is; any
/// event of a step attempt older than one already seen is dropped. A <c>stream.reset</c> clears everything (the
/// gateway sends the whole transcript after it).
/// </summary>
public sealed class RunEventFilter
{
    private readonly HashSet<string> _seenIds = new(StringComparer.Ordinal);
    private readonly Dictionary<string, StepPosition> _steps = new(StringComparer.Ordinal);

    /// <summary>True when <paramref name="runEvent"/> is new to the consumer and should be delivered.</summary>
    public bool Accept(RunEvent runEvent)
    {
        ArgumentNullException.ThrowIfNull(runEvent);
        if (runEvent.Type == RunEventTypes.StreamReset)
        {
            Reset();
            return true;
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
                return false;
            }
            if (runEvent.Type == RunEventTypes.Token)
            {
                if (runEvent.Index <= position.LastTokenIndex)
                {
                    return false;
                }
                position.LastTokenIndex = runEvent.Index;
                return true;
            }
        }
        return _seenIds.Add(runEvent.Id);
    }

    /// <summary>Forgets everything seen (what a stream.reset does).</summary>
    public void Reset()
    {
        _seenIds.Clear();
        _steps.Clear();
    }

    private sealed class StepPosition(int attempt)
    {
        public int Attempt { get; } = attempt;

        public long LastTokenIndex { get; set; } = -1;
    }
}

using AgentOrchestrator.Contracts;

namespace AgentOrchestrator.RunStreaming.Log;

/// <summary>Turns a compacted step attempt back into its token deltas, each as the message it was appended as.</summary>
internal static class CompactedSteps
{
    /// <summary>The delta at <paramref name="position"/> of <paramref name="compaction"/>'s tokens, with the text it carried.</summary>
    public static RunEventsPublished Token(string tenantId, string runId, StepCompaction compaction, int position)
    {
        var token = compaction.Tokens[position];
        var end = position + 1 < compaction.Tokens.Count ? compaction.Tokens[position + 1].Offset : compaction.Text.Length;
        var runEvent = new RunEvent
        {
            Id = RunEventIds.ForStep(runId, compaction.Step, compaction.Attempt, RunEventTypes.Token, token.Index),
            RunId = runId,
            TenantId = tenantId,
            Type = RunEventTypes.Token,
            Step = compaction.Step,
            Agent = compaction.Agent,
            Attempt = compaction.Attempt,
            Index = token.Index,
            Text = compaction.Text[token.Offset..end],
            Offset = token.Offset,
            Ts = compaction.Ts,
        };
        return new RunEventsPublished { RunId = runId, TenantId = tenantId, Events = [runEvent] };
    }

    /// <summary>The first and last sequence numbers a compaction covers.</summary>
    public static (long First, long Last) SeqRange(StepCompaction compaction)
    {
        long first = long.MaxValue, last = long.MinValue;
        foreach (var token in compaction.Tokens)
        {
            first = Math.Min(first, token.Seq);
            last = Math.Max(last, token.Seq);
        }
        return (first, last);
    }

    /// <summary>
    /// Whether <paramref name="compaction"/> may replace its deltas: it matches the message it came with (the attempt's
    /// step.completed), and its offsets cut the text in order.
    /// </summary>
    public static bool IsValid(RunEventsPublished message, StepCompaction compaction)
    {
        if (compaction.Tokens.Count == 0 || message.Events is not [{ Type: RunEventTypes.StepCompleted } completed]
            || completed.Step != compaction.Step || completed.Attempt != compaction.Attempt)
        {
            return false;
        }
        var previous = -1;
        foreach (var token in compaction.Tokens)
        {
            if (token.Offset < previous || token.Offset > compaction.Text.Length)
            {
                return false;
            }
            previous = token.Offset;
        }
        return compaction.Tokens[0].Offset == 0;
    }
}

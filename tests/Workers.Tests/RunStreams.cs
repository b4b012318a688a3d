using AgentOrchestrator.Contracts;

namespace AgentOrchestrator.Workers.Tests;

/// <summary>Assertions over the events one run published.</summary>
internal static class RunStreams
{
    /// <summary>
    /// The attempt's events are step.started, token deltas with indexes 0..n-1, then step.completed whose text is
    /// the deltas concatenated; returns that text.
    /// </summary>
    public static string AssertStepStream(IReadOnlyList<RunEvent> events, string step, int attempt)
    {
        List<RunEvent> stepEvents = events.Where(e => e.Step == step && e.Attempt == attempt).ToList();
        if (attempt > 1)
        {
            // A later attempt announces that it supersedes the earlier ones before it starts.
            Assert.Equal(RunEventTypes.StepRetrying, stepEvents[0].Type);
            Assert.Equal(attempt - 1, stepEvents[0].Data?.GetProperty("previousAttempt").GetInt32());
            Assert.Equal(RunEventIds.ForStep(stepEvents[0].RunId, step, attempt, RunEventTypes.StepRetrying, 0), stepEvents[0].Id);
            stepEvents.RemoveAt(0);
        }
        Assert.True(stepEvents.Count >= 3, $"{step} attempt {attempt}: expected started, tokens, completed; got {stepEvents.Count} events");
        Assert.Equal(RunEventTypes.StepStarted, stepEvents[0].Type);
        Assert.Equal(RunEventTypes.StepCompleted, stepEvents[^1].Type);
        // Token messages of one attempt may overlap on the bus (TokenBatcher), so they may arrive out of index order;
        // gateways release them by index (docs/protocol.md), and so does this check.
        List<RunEvent> tokens = [.. stepEvents.GetRange(1, stepEvents.Count - 2).OrderBy(e => e.Index)];
        Assert.All(tokens, e => Assert.Equal(RunEventTypes.Token, e.Type));
        Assert.Equal(Enumerable.Range(0, tokens.Count).Select(i => (long)i), tokens.Select(e => e.Index));
        Assert.Equal(stepEvents.Select(e => RunEventIds.ForStep(e.RunId, step, attempt, e.Type, e.Index)), stepEvents.Select(e => e.Id));
        string text = string.Concat(tokens.Select(e => e.Text));
        Assert.Equal(stepEvents[^1].Text, text);
        Assert.False(string.IsNullOrWhiteSpace(text));
        return text;
    }

    public static int PositionOf(IReadOnlyList<RunEvent> events, string type, string? step = null, int? attempt = null)
    {
        for (int i = 0; i < events.Count; i++)
        {
            RunEvent e = events[i];
            if (e.Type == type && e.Step == step && (attempt is null || e.Attempt == attempt))
            {
                return i;
            }
        }
        Assert.Fail($"no {type} event{(step is null ? string.Empty : " of " + step)}");
        return -1;
    }
}

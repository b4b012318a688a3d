using AgentOrchestrator.Contracts;
using AgentOrchestrator.TestSupport;

namespace AgentOrchestrator.EndToEnd.Tests;

internal static class RunAssertions
{
    /// <summary>
    /// The full path worked: both steps streamed their tokens in order (indices 0..n-1 of one attempt),
    /// each step's deltas add up to its completed text, the run completed last, and the reviewer's
    /// text is the run's result.
    /// </summary>
    public static void CompletedWithStreamedSteps(List<RunEvent> events, string result)
    {
        var sequence = string.Join(", ", events.Select(e => $"{e.Type}:{e.Step}:{e.Attempt}:{e.Index}"));
        Assert.True(events[0].Type == RunEventTypes.RunStarted, "first event is not run.started: " + sequence);
        Assert.Equal(RunEventTypes.RunCompleted, events[^1].Type);
        Assert.Equal(events.Count, events.Select(e => e.Id).Distinct().Count());
        foreach (var step in new[] { "writer", "reviewer" })
        {
            var stepEvents = events.Where(e => e.Step == step).ToList();
            var completed = Assert.Single(stepEvents, e => e.Type == RunEventTypes.StepCompleted);
            var tokens = stepEvents.Where(e => e.Type == RunEventTypes.Token && e.Attempt == completed.Attempt).ToList();
            Assert.True(tokens.Count >= 1, $"{step} streamed no tokens");
            Assert.Equal(Enumerable.Range(0, tokens.Count).Select(i => (long)i), tokens.Select(t => t.Index));
            Assert.Equal(completed.Text, string.Concat(tokens.Select(t => t.Text)));
            Assert.True(events.IndexOf(tokens[^1]) < events.IndexOf(completed), $"{step} completed before its last token");
        }
        var writerDone = events.FindIndex(e => e.Step == "writer" && e.Type == RunEventTypes.StepCompleted);
        var reviewerStart = events.FindIndex(e => e.Step == "reviewer" && e.Type == RunEventTypes.StepStarted);
        Assert.True(writerDone < reviewerStart, "the reviewer started before the writer finished");
        var reviewerText = string.Concat(events.Where(e => e.Step == "reviewer" && e.Type == RunEventTypes.Token).Select(e => e.Text));
        Assert.Equal(result, reviewerText);
    }
}

using System.Text.Json;
using AgentOrchestrator.Contracts;
using AgentOrchestrator.TestSupport;

namespace AgentOrchestrator.EndToEnd.Tests;

internal static class TranscriptAssertions
{
    /// <summary>
    /// What the subscriber shows equals the run's durable outcome: the run completed, each step's text is exactly
    /// the text its step.completed reported (no token lost, doubled or from a superseded attempt), and the reviewer's
    /// text is the run's result from GET /v1/runs/{id}.
    /// </summary>
    public static void Exact(ResumingSubscriber subscriber, JsonElement run, string context)
    {
        var breaks = $"{context}; breaks: {string.Join(" | ", subscriber.Breaks)}";
        Assert.True(run.GetProperty("status").GetString() == "completed", "run did not complete: " + breaks);
        Assert.Equal(RunEventTypes.RunStarted, subscriber.Lifecycle[0].Type);
        Assert.Equal(RunEventTypes.RunCompleted, subscriber.Terminal?.Type);
        foreach (var step in new[] { "writer", "reviewer" })
        {
            var attempt = subscriber.AttemptOf(step);
            var completed = subscriber.Lifecycle.SingleOrDefault(e => e.Step == step && e.Attempt == attempt && e.Type == RunEventTypes.StepCompleted);
            Assert.True(completed is not null, $"{step} has no step.completed: {breaks}");
            Assert.True(completed.Text == subscriber.TextOf(step), $"{step} text differs from its step.completed: {breaks}\nshown:    {subscriber.TextOf(step)}\ncompleted: {completed.Text}");
        }
        Assert.Equal(run.GetProperty("result").GetString(), subscriber.TextOf("reviewer"));
    }
}

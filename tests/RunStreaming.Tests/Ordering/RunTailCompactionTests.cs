using AgentOrchestrator.Contracts;
using AgentOrchestrator.RunStreaming.Ordering;
using AgentOrchestrator.RunStreaming.Tests.Log;
using AgentOrchestrator.TestSupport;
using Microsoft.Extensions.Logging.Abstractions;

namespace AgentOrchestrator.RunStreaming.Tests.Ordering;

/// <summary>
/// Compact resume: a finished step attempt is replayed as one token event, and every cursor a client can hold - from
/// live delivery or from a compacted replay - resumes to the exact transcript, with no event delivered twice.
/// </summary>
public sealed class RunTailCompactionTests
{
    private static readonly DateTimeOffset Now = DateTimeOffset.Parse("2026-01-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture);
    private readonly LogRun _run = new("t1", "r1");

    /// <summary>Two steps streaming side by side (their deltas interleaved), a retried step, a tool call and the end.</summary>
    private List<RunEvent> Run(bool finished)
    {
        var r = _run;
        var events = new List<RunEvent> { r.RunStarted(), r.Started("writer", 1), r.Started("critic", 1) };
        string[] writer = ["The ", "quick ", "brown ", "fox ", "jumps."];
        string[] critic = ["Too ", "short", "."];
        int w = 0, c = 0, wOffset = 0, cOffset = 0;
        while (w < writer.Length || c < critic.Length)
        {
            if (w < writer.Length)
            {
                events.Add(r.Token("writer", 1, w, writer[w], wOffset));
                wOffset += writer[w++].Length;
            }
            if (c < critic.Length && (w % 2 == 0 || w == writer.Length))
            {
                events.Add(r.Token("critic", 1, c, critic[c], cOffset));
                cOffset += critic[c++].Length;
            }
        }
        events.Add(r.Completed("critic", 1, critic.Length, string.Concat(critic)));
        events.Add(r.Token("editor", 1, 0, "draft", 0));
        events.Add(r.Retrying("editor", 2));
        events.Add(r.Started("editor", 2));
        events.Add(r.Token("editor", 2, 0, "Fine", 0));
        events.Add(r.Token("editor", 2, 1, " now", 4));
        if (finished)
        {
            events.Add(r.Completed("writer", 1, writer.Length, string.Concat(writer)));
            events.Add(r.Completed("editor", 2, 2, "Fine now"));
            events.Add(r.RunCompleted("done"));
        }
        return events;
    }

    private RunTail TailOf(IEnumerable<RunEvent> events, out List<RunEvent> released)
    {
        var tail = new RunTail("t1/r1", _run.Tenant, _run.RunId, Now);
        released = [];
        foreach (var runEvent in events)
        {
            tail.Accept(runEvent, Now, 10_000, 1024, released, NullLogger.Instance);
        }
        return tail;
    }

    /// <summary>Each step's text and the run-level events, as a client following the protocol holds them.</summary>
    private static string Render(IEnumerable<RunEvent> events)
    {
        var transcript = new ClientTranscript();
        foreach (var runEvent in events)
        {
            transcript.Apply(runEvent);
        }
        return string.Join('|', new[] { "writer", "critic", "editor" }.Select(s => s + "=" + transcript.TextOf(s)))
            + " " + string.Join(',', transcript.Lifecycle.Distinct());
    }

    [Fact]
    public void After_FromTheStart_ReplaysEachFinishedAttemptAsOneTokenEvent()
    {
        var tail = TailOf(Run(finished: true), out var released);

        var replay = tail.After(null, out var known);

        Assert.True(known);
        Assert.Equal(Render(released), Render(replay));
        var writer = Assert.Single(replay, e => e.Step == "writer" && e.Type == RunEventTypes.Token);
        Assert.Equal("The quick brown fox jumps.", writer.Text);
        Assert.Equal(RunEventIds.ForTokenRange(_run.RunId, "writer", 1, 0, 4), writer.Id);
        Assert.Equal((4L, 0L), (writer.Index, writer.Offset ?? -1));
        Assert.DoesNotContain(replay, e => e.Step == "editor" && e.Attempt == 1);
        Assert.Equal(3, replay.Count(e => e.Type == RunEventTypes.Token));
        Assert.Equal(released.Count - 8, replay.Count);
    }

    [Fact]
    public void After_EveryCursorOfTheLiveDelivery_ResumesToTheExactTranscriptWithoutRepeats()
    {
        var tail = TailOf(Run(finished: true), out var released);
        var whole = Render(released);

        for (var cut = 0; cut < released.Count; cut++)
        {
            var replay = tail.After(released[cut].Id, out var known);

            Assert.True(known, $"cursor {released[cut].Id}");
            Assert.Equal(whole, Render(released.Take(cut + 1).Concat(replay)));
            Assert.Empty(replay.Select(e => e.Id).Intersect(released.Take(cut + 1).Where(e => e.Type != RunEventTypes.Token).Select(e => e.Id)));
        }
    }

    [Fact]
    public void After_EveryCursorOfACompactedReplay_ResumesToTheExactTranscript()
    {
        var tail = TailOf(Run(finished: true), out var released);
        var compacted = tail.After(null, out _);

        for (var cut = 0; cut < compacted.Count; cut++)
        {
            var replay = tail.After(compacted[cut].Id, out var known);

            Assert.True(known, $"cursor {compacted[cut].Id}");
            Assert.Equal(Render(released), Render(compacted.Take(cut + 1).Concat(replay)));
        }
    }

    [Fact]
    public void After_CursorInsideAFinishedAttempt_ReplaysTheRestOfItAsOneEventAtItsPlace()
    {
        var tail = TailOf(Run(finished: true), out var released);
        var cursor = RunEventIds.ForStep(_run.RunId, "writer", 1, RunEventTypes.Token, 1);

        var replay = tail.After(cursor, out var known);

        Assert.True(known);
        var rest = Assert.Single(replay, e => e.Step == "writer" && e.Type == RunEventTypes.Token);
        Assert.Equal(("brown fox jumps.", 10L, RunEventIds.ForTokenRange(_run.RunId, "writer", 1, 2, 4)), (rest.Text, rest.Offset ?? -1, rest.Id));
        // Placed where writer token 2 was released: after the critic's first delta, released between writer tokens 1 and 2.
        var critic = replay.FindIndex(e => e.Step == "critic" && e.Type == RunEventTypes.Token);
        Assert.True(replay.IndexOf(rest) > critic);
    }

    [Fact]
    public void After_ASupersededAttemptsCursor_StaysValid()
    {
        var tail = TailOf(Run(finished: true), out var released);
        var cursor = RunEventIds.ForStep(_run.RunId, "editor", 1, RunEventTypes.Token, 0);

        var replay = tail.After(cursor, out var known);

        Assert.True(known);
        Assert.Equal(Render(released), Render(released.TakeWhile(e => e.Id != cursor).Append(released.First(e => e.Id == cursor)).Concat(replay)));
    }

    [Fact]
    public void After_AStepStillStreaming_IsReplayedDeltaByDelta()
    {
        var tail = TailOf(Run(finished: false), out var released);

        var replay = tail.After(null, out _);

        Assert.Equal(5, replay.Count(e => e.Step == "writer" && e.Type == RunEventTypes.Token));
        Assert.Single(replay, e => e.Step == "critic" && e.Type == RunEventTypes.Token);
        Assert.Equal(Render(released), Render(replay));
    }
}

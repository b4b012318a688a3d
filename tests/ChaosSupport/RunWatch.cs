using System.Text.Json;
using AgentOrchestrator.Client;
using AgentOrchestrator.Contracts;

namespace AgentOrchestrator.ChaosSupport;

/// <summary>
/// One run of the session as the shipped .NET client showed it: every event with the moment it arrived, the
/// client's <see cref="RunTranscript"/>, and how the watch ended.
/// </summary>
internal sealed class RunWatch(string runId, string flow, string watcher)
{
    private static readonly JsonElement s_approve = JsonSerializer.SerializeToElement(new Dictionary<string, bool> { ["approved"] = true });
    private readonly List<(DateTimeOffset At, RunEvent Event)> _events = [];

    public string RunId => runId;

    public string Flow => flow;

    /// <summary>Which client watched it (entrance and transport).</summary>
    public string Watcher => watcher;

    public DateTimeOffset Started { get; } = DateTimeOffset.UtcNow;

    public DateTimeOffset? Ended { get; private set; }

    public RunTranscript Transcript { get; } = new();

    /// <summary>Why the client stopped before the terminal event (it gave up reconnecting, ...), or null.</summary>
    public string? Failure { get; private set; }

    public IReadOnlyList<(DateTimeOffset At, RunEvent Event)> Events
    {
        get
        {
            lock (_events)
            {
                return [.. _events];
            }
        }
    }

    /// <summary>Live (started, not ended) at <paramref name="moment"/>.</summary>
    public bool LiveAt(DateTimeOffset moment) => Started <= moment && (Ended is null || Ended > moment);

    /// <summary>Watches the run to its end; a person approves what the run asks (support-triage asks for approval of its reply).</summary>
    public async Task WatchAsync(AgentOrchestratorClient client, AgentOrchestratorClient answering, CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var runEvent in client.SubscribeAsync(runId, cancellationToken: cancellationToken))
            {
                lock (_events)
                {
                    _events.Add((DateTimeOffset.UtcNow, runEvent));
                }
                Transcript.Apply(runEvent);
                if (runEvent is { Type: RunEventTypes.InputRequested, Data: { } data } && data.TryGetProperty("requestId", out var requestId))
                {
                    await answering.ProvideInputAsync(runId, requestId.GetString()!, s_approve, cancellationToken);
                }
            }
        }
        catch (Exception e) when (e is AgentOrchestratorException or OperationCanceledException)
        {
            Failure = $"{e.GetType().Name}: {e.Message}";
        }
        finally
        {
            Ended = DateTimeOffset.UtcNow;
        }
    }

    /// <summary>
    /// The first token after <paramref name="moment"/> of a step attempt that completed (a killed attempt's leftovers do
    /// not count): when this run streamed again after a fault. Null when the run had no such token (it had finished
    /// streaming).
    /// </summary>
    public DateTimeOffset? FirstNewTokenAfter(DateTimeOffset moment)
    {
        var events = Events;
        var completed = events.Where(e => e.Event.Type == RunEventTypes.StepCompleted)
            .Select(e => (e.Event.Step, e.Event.Attempt)).ToHashSet();
        return events.Where(e => e.At > moment && e.Event.Type == RunEventTypes.Token && completed.Contains((e.Event.Step, e.Event.Attempt)))
            .Select(e => (DateTimeOffset?)e.At).FirstOrDefault();
    }

    /// <summary>
    /// Tokens of the completed attempts the client delivered twice (a range overlapping text already delivered) and
    /// ranges it never delivered (gaps below the step's completed text), counted from the token offsets.
    /// </summary>
    public (int Duplicated, int Lost) TokenAudit()
    {
        // After a stream.reset the client starts over: only what it delivered since the last one counts.
        var all = Events.Select(e => e.Event).ToList();
        var events = all.Skip(all.FindLastIndex(e => e.Type == RunEventTypes.StreamReset) + 1).ToList();
        int duplicated = 0, lost = 0;
        foreach (var completed in events.Where(e => e.Type == RunEventTypes.StepCompleted))
        {
            var covered = 0L;
            foreach (var token in events.Where(e => e.Type == RunEventTypes.Token && e.Step == completed.Step && e.Attempt == completed.Attempt))
            {
                var offset = token.Offset ?? covered;
                if (offset < covered)
                {
                    duplicated++;
                }
                else if (offset > covered)
                {
                    lost++;
                }
                covered = Math.Max(covered, offset + (token.Text?.Length ?? 0));
            }
            if (covered < (completed.Text?.Length ?? 0))
            {
                lost++;
            }
        }
        return (duplicated, lost);
    }

    /// <summary>When this client got a stream.reset.</summary>
    public IEnumerable<DateTimeOffset> ResetTimes => Events.Where(e => e.Event.Type == RunEventTypes.StreamReset).Select(e => e.At);

    /// <summary>
    /// When a step that had completed was retried (step.retrying after a step.completed of the same step): Temporal
    /// never recorded that completion, so the step ran again.
    /// </summary>
    public IEnumerable<DateTimeOffset> RepeatTimes
    {
        get
        {
            var completed = new HashSet<string?>();
            foreach (var (at, runEvent) in Events)
            {
                if (runEvent.Type == RunEventTypes.StepCompleted)
                {
                    completed.Add(runEvent.Step);
                }
                else if (runEvent.Type == RunEventTypes.StepRetrying && completed.Remove(runEvent.Step))
                {
                    yield return at;
                }
            }
        }
    }

    /// <summary>What differs between what the client shows and the run's durable outcome; empty when exact.</summary>
    public IEnumerable<string> Differences(RunInfo run)
    {
        if (Failure is not null)
        {
            yield return $"the client stopped: {Failure}";
        }
        if (run.Status != "completed")
        {
            yield return $"the run ended {run.Status}";
        }
        if (Transcript.Status != RunTranscriptStatus.Completed)
        {
            yield return $"the transcript is {Transcript.Status}";
        }
        if (Transcript.Resets > 0)
        {
            yield return $"{Transcript.Resets} stream.reset";
        }
        // A step may complete twice: when Temporal never recorded an attempt's completion (its worker or the dev server
        // died in between), a new attempt runs and completes again; the last one is the step's result.
        var lastCompleted = Events.Select(e => e.Event).Where(e => e.Type == RunEventTypes.StepCompleted)
            .GroupBy(e => e.Step).Select(g => g.MaxBy(e => e.Attempt)!);
        foreach (var completed in lastCompleted)
        {
            var shown = Transcript.Step(completed.Step!);
            if (shown is null || shown.Attempt != completed.Attempt || shown.Text != completed.Text)
            {
                yield return $"step {completed.Step}: shows attempt {shown?.Attempt} '{Clip(shown?.Text)}', completed attempt {completed.Attempt} '{Clip(completed.Text)}'";
            }
        }
        if (Transcript.Result != run.ResultText)
        {
            yield return $"result '{Clip(Transcript.Result)}' is not the run's '{Clip(run.ResultText)}'";
        }
    }

    private static string Clip(string? text) => text is null ? "(null)" : text.Length <= 60 ? text : text[..60] + "...";
}

using AgentOrchestrator.Contracts;

namespace AgentOrchestrator.TestSupport;

/// <summary>
/// What a client following docs/protocol.md renders: stream.reset clears everything; per step only the latest
/// attempt counts; per step attempt a token whose index is not above the last one held is a duplicate.
/// </summary>
public sealed class ClientTranscript
{
    private readonly Dictionary<string, int> _attempt = [];
    private readonly Dictionary<(string Step, int Attempt), (long LastIndex, string Text)> _text = [];
    private readonly List<string> _steps = [];

    public List<string> Lifecycle { get; } = [];

    public int Resets { get; private set; }

    public string? Cursor { get; private set; }

    public void Apply(RunEvent runEvent)
    {
        Cursor = runEvent.Id;
        if (runEvent.Type == RunEventTypes.StreamReset)
        {
            Resets++;
            _attempt.Clear();
            _text.Clear();
            _steps.Clear();
            Lifecycle.Clear();
            return;
        }
        if (runEvent.Step is not { } step)
        {
            Lifecycle.Add(runEvent.Type);
            return;
        }
        var latest = _attempt.GetValueOrDefault(step);
        if (runEvent.Attempt < latest)
        {
            return;
        }
        if (!_steps.Contains(step))
        {
            _steps.Add(step);
        }
        _attempt[step] = runEvent.Attempt;
        if (runEvent.Type == RunEventTypes.Token)
        {
            var key = (step, runEvent.Attempt);
            var (last, text) = _text.GetValueOrDefault(key, (-1, string.Empty));
            if (runEvent.Index > last)
            {
                _text[key] = (runEvent.Index, text + runEvent.Text);
            }
        }
    }

    public string TextOf(string step) =>
        _attempt.TryGetValue(step, out var attempt) && _text.TryGetValue((step, attempt), out var text) ? text.Text : string.Empty;

    /// <summary>Every step's text in first-seen order, "step=text" joined by '|'.</summary>
    public string Render() => string.Join('|', _steps.Select(s => $"{s}={TextOf(s)}"));
}

using AgentOrchestrator.Contracts;

namespace AgentOrchestrator.TestSupport;

/// <summary>
/// What a client following docs/protocol.md renders: stream.reset clears everything; per step only the latest
/// attempt counts; per step attempt a token with an offset adds only the text beyond what the attempt holds (a token
/// starting past it is a gap: <see cref="InvalidOperationException"/>), and one without an offset is a duplicate when
/// its index is not above the last one held.
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
            var delta = runEvent.Text ?? string.Empty;
            if (runEvent.Offset is { } offset)
            {
                if (offset > text.Length)
                {
                    throw new InvalidOperationException($"Gap: {runEvent.Id} starts at {offset} but {step}#{runEvent.Attempt} holds {text.Length} characters.");
                }
                if (offset + delta.Length > text.Length)
                {
                    _text[key] = (Math.Max(last, runEvent.Index), text + delta[(int)(text.Length - offset)..]);
                }
            }
            else if (runEvent.Index > last)
            {
                _text[key] = (runEvent.Index, text + delta);
            }
        }
    }

    public string TextOf(string step) =>
        _attempt.TryGetValue(step, out var attempt) && _text.TryGetValue((step, attempt), out var text) ? text.Text : string.Empty;

    /// <summary>Every step's text in first-seen order, "step=text" joined by '|'.</summary>
    public string Render() => string.Join('|', _steps.Select(s => $"{s}={TextOf(s)}"));
}

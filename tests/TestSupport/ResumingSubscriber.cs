using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using AgentOrchestrator.Contracts;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;

namespace AgentOrchestrator.TestSupport;

/// <summary>
/// A test-side subscriber that follows the resume protocol (docs/protocol.md) the way a client must: Subscribe(runId,
/// cursor) over SignalR, or a subscribe message on the plain WebSocket endpoint /v1/ws (<see cref="Transport"/>); when the stream breaks (transport aborted, gateway killed, slow_consumer) it reconnects, to
/// the next gateway when the current one fails, with the id of the last event received as cursor. It drops events
/// whose id it holds, tokens whose index it already has for that step attempt, and events of superseded attempts;
/// on stream.reset it discards its state for the run and rebuilds from what follows.
/// </summary>
public sealed class ResumingSubscriber
{
    public const string SignalR = "signalr";
    public const string WebSocket = "websocket";
    private const string StreamReset = "stream.reset";
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly IReadOnlyList<Uri> _gateways;
    private readonly string _token;
    private readonly string _runId;
    private readonly HashSet<string> _seen = new(StringComparer.Ordinal);
    private readonly Dictionary<string, StepTranscript> _steps = new(StringComparer.Ordinal);
    private readonly List<RunEvent> _lifecycle = [];
    private readonly Lock _abortGate = new();
    private IAsyncDisposable? _current;
    private ClientWebSocket? _currentSocket;
    private int _gateway;

    public ResumingSubscriber(IReadOnlyList<Uri> gateways, string token, string runId, int firstGateway = 0)
    {
        ArgumentNullException.ThrowIfNull(gateways);
        _gateways = gateways;
        _token = token;
        _runId = runId;
        _gateway = firstGateway;
    }

    /// <summary><see cref="SignalR"/> (hub /hubs/runs, the default) or <see cref="WebSocket"/> (/v1/ws).</summary>
    public string Transport { get; init; } = SignalR;

    /// <summary>The gateway the subscriber is (or was last) connected to.</summary>
    public Uri CurrentGateway => _gateways[_gateway];

    /// <summary>Events received so far, duplicates included (for progress conditions).</summary>
    public int Received { get; private set; }

    /// <summary>Subscriptions opened, the first one included.</summary>
    public int Connections { get; private set; }

    public int Resets { get; private set; }

    /// <summary>Events received whose id the subscriber already held (a correct gateway sends none).</summary>
    public int DuplicatesReceived { get; private set; }

    /// <summary>Why each earlier subscription ended.</summary>
    public List<string> Breaks { get; } = [];

    /// <summary>The id of the last event received: the cursor of the next Subscribe.</summary>
    public string? Cursor { get; private set; }

    /// <summary>Non-token events kept, in arrival order (run.started, step.*, run.completed, ...).</summary>
    public IReadOnlyList<RunEvent> Lifecycle => _lifecycle;

    /// <summary>The run's terminal event once received.</summary>
    public RunEvent? Terminal { get; private set; }

    /// <summary>Called after each event is applied, with the number received so far; may call <see cref="AbortTransport"/>.</summary>
    public Action<ResumingSubscriber, RunEvent>? OnEvent { get; init; }

    /// <summary>The text of a step as a person would see it: its latest attempt's tokens, each once, in order.</summary>
    public string TextOf(string step) => _steps.TryGetValue(step, out var transcript) ? transcript.Text.ToString() : string.Empty;

    /// <summary>The attempt of a step the transcript holds.</summary>
    public int AttemptOf(string step) => _steps.TryGetValue(step, out var transcript) ? transcript.Attempt : 0;

    public IEnumerable<string> Steps => _steps.Keys;

    /// <summary>Ends the current connection abruptly (no close handshake), as a network drop would; the subscriber resumes.</summary>
    public void AbortTransport()
    {
        IAsyncDisposable? current;
        ClientWebSocket? socket;
        lock (_abortGate)
        {
            current = _current;
            socket = _currentSocket;
        }
        if (socket is not null)
        {
            socket.Abort(); // the read loop's receive fails at once
            return;
        }
        // DisposeAsync stops the transport and fails the running stream; not awaited here, the read loop notices.
        _ = current?.DisposeAsync().AsTask();
    }

    /// <summary>Issues a dev token for a tenant from a gateway that has dev tokens enabled.</summary>
    public static Task<string> DevTokenAsync(Uri gateway, string tenant) => DevTokens.IssueAsync(gateway, tenant, "e2e");

    /// <summary>Reads until the run's terminal event, reconnecting as often as needed within <paramref name="timeout"/>.</summary>
    public async Task RunAsync(TimeSpan timeout)
    {
        using var deadline = new CancellationTokenSource(timeout);
        var failures = 0;
        while (Terminal is null)
        {
            if (deadline.IsCancellationRequested)
            {
                throw new TimeoutException($"no terminal event within {timeout}; breaks: {string.Join(" | ", Breaks)}");
            }
            var receivedBefore = Received;
            try
            {
                if (Transport == WebSocket)
                {
                    await ReadOverWebSocketAsync(deadline.Token);
                }
                else
                {
                    await ReadOverHubAsync(deadline.Token);
                }
                if (Terminal is null)
                {
                    Breaks.Add("stream ended without a terminal event");
                }
            }
            catch (HubException e) when (IsFinal(e))
            {
                throw;
            }
            catch (Exception e) when (e is not FinalRefusalException && !deadline.IsCancellationRequested)
            {
                Breaks.Add($"{CurrentGateway}: {e.GetType().Name}: {e.Message}");
                failures = Received > receivedBefore ? 1 : failures + 1; // consecutive failures without an event between
                // Any gateway can serve the resume: go to the next one, so cursors are exercised across instances.
                _gateway = (_gateway + 1) % _gateways.Count;
                await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(2000, 50 * (1 << Math.Min(failures, 6)) * Random.Shared.NextDouble())), deadline.Token);
            }
        }
    }

    private async Task ReadOverHubAsync(CancellationToken cancellationToken)
    {
        var connection = new HubConnectionBuilder()
            .WithUrl(new Uri(CurrentGateway, "/hubs/runs"), options => options.AccessTokenProvider = () => Task.FromResult<string?>(_token))
            .Build();
        lock (_abortGate)
        {
            _current = connection;
        }
        try
        {
            await connection.StartAsync(cancellationToken);
            Connections++;
            await foreach (var runEvent in connection.StreamAsync<RunEvent>("Subscribe", _runId, Cursor, cancellationToken))
            {
                Apply(runEvent);
                OnEvent?.Invoke(this, runEvent);
            }
        }
        finally
        {
            await connection.DisposeAsync();
        }
    }

    /// <summary>One /v1/ws connection: subscribe, events until "end" (an early end, with a code, is a break to resume from).</summary>
    private async Task ReadOverWebSocketAsync(CancellationToken cancellationToken)
    {
        using var socket = new ClientWebSocket();
        socket.Options.SetRequestHeader("Authorization", "Bearer " + _token);
        lock (_abortGate)
        {
            _currentSocket = socket;
        }
        try
        {
            var address = new UriBuilder(new Uri(CurrentGateway, "/v1/ws")) { Scheme = CurrentGateway.Scheme == "https" ? "wss" : "ws" }.Uri;
            await socket.ConnectAsync(address, cancellationToken);
            Connections++;
            var subscribe = JsonSerializer.SerializeToUtf8Bytes(new { type = "subscribe", requestId = "s", runId = _runId, cursor = Cursor }, Json);
            await socket.SendAsync(subscribe, WebSocketMessageType.Text, endOfMessage: true, cancellationToken);
            var buffer = new byte[16 * 1024];
            using var message = new MemoryStream();
            while (true)
            {
                var result = await socket.ReceiveAsync(buffer, cancellationToken);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    throw new WebSocketException(WebSocketError.ConnectionClosedPrematurely, "the gateway closed the connection");
                }
                message.Write(buffer, 0, result.Count);
                if (!result.EndOfMessage)
                {
                    continue;
                }
                using var frame = JsonDocument.Parse(message.ToArray());
                message.SetLength(0);
                var root = frame.RootElement;
                var code = root.TryGetProperty("code", out var value) ? value.GetString() : null;
                switch (root.GetProperty("type").GetString())
                {
                    case "event":
                        var runEvent = root.GetProperty("event").Deserialize<RunEvent>(Json)!;
                        Apply(runEvent);
                        OnEvent?.Invoke(this, runEvent);
                        break;
                    case "error" when code is "run_not_found" or "unauthorized" or "invalid_request" || code?.StartsWith("quota.", StringComparison.Ordinal) == true:
                        throw new FinalRefusalException($"[{code}] {root.GetProperty("message").GetString()}");
                    case "error":
                        throw new InvalidOperationException($"[{code}] {root.GetProperty("message").GetString()}");
                    case "end" when code is not null:
                        throw new InvalidOperationException($"ended early: [{code}] {root.GetProperty("message").GetString()}");
                    case "end":
                        return;
                    default:
                        break; // subscribed, keep-alive pings
                }
            }
        }
        finally
        {
            lock (_abortGate)
            {
                _currentSocket = null;
            }
        }
    }

    /// <summary>Errors a reconnect does not fix: the run does not exist for us, auth, quota, a bad request.</summary>
    private static bool IsFinal(HubException e) =>
        e.Message.Contains("run not found", StringComparison.OrdinalIgnoreCase) || e.Message.Contains("[run_not_found]", StringComparison.Ordinal)
        || e.Message.Contains("[unauthorized]", StringComparison.Ordinal) || e.Message.Contains("[quota.", StringComparison.Ordinal)
        || e.Message.Contains("[invalid_request]", StringComparison.Ordinal);

    private void Apply(RunEvent runEvent)
    {
        Received++;
        if (runEvent.Type == StreamReset)
        {
            // The server could not resume from our cursor: whatever follows is the whole transcript again.
            Resets++;
            _seen.Clear();
            _steps.Clear();
            _lifecycle.Clear();
            return;
        }
        Cursor = runEvent.Id;
        if (!_seen.Add(runEvent.Id))
        {
            DuplicatesReceived++;
            return;
        }
        if (runEvent.Step is { } step)
        {
            if (!_steps.TryGetValue(step, out var transcript))
            {
                transcript = new StepTranscript(runEvent.Attempt);
                _steps[step] = transcript;
            }
            if (runEvent.Attempt < transcript.Attempt)
            {
                return; // a superseded attempt
            }
            if (runEvent.Attempt > transcript.Attempt)
            {
                _steps[step] = transcript = new StepTranscript(runEvent.Attempt);
            }
            if (runEvent.Type == RunEventTypes.Token)
            {
                if (runEvent.Index > transcript.LastIndex)
                {
                    transcript.Text.Append(runEvent.Text);
                    transcript.LastIndex = runEvent.Index;
                }
                return;
            }
        }
        _lifecycle.Add(runEvent);
        if (runEvent.Type is RunEventTypes.RunCompleted or RunEventTypes.RunFailed or RunEventTypes.RunCanceled)
        {
            Terminal = runEvent;
        }
    }

    private sealed class StepTranscript(int attempt)
    {
        public int Attempt { get; } = attempt;

        public long LastIndex { get; set; } = -1;

        public StringBuilder Text { get; } = new();
    }

    /// <summary>A /v1/ws refusal a reconnect does not fix (as <see cref="IsFinal"/> for the hub).</summary>
    private sealed class FinalRefusalException(string message) : Exception(message);
}

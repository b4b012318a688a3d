using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Net.WebSockets;
using System.Text.Json;
using AgentOrchestrator.Contracts;
using AgentOrchestrator.Gateway.Auth;
using AgentOrchestrator.Gateway.Quotas;
using AgentOrchestrator.RunStreaming.Delivery;
using AgentOrchestrator.RunStreaming.Subscriptions;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http;

namespace AgentOrchestrator.Gateway.WebSockets;

/// <summary>
/// One accepted /v1/ws connection: reads client messages one at a time and answers each (subscribe, ack, unsubscribe,
/// ping), and runs one pump per active subscription that sends its events. Idle, it holds no receive or send buffer
/// (zero-byte reads; frames are rented per send) and no timer of its own (<see cref="RunWebSocketKeepAlive"/>).
/// </summary>
[SuppressMessage("Design", "CA1001", Justification = "The send gate's wait handle is never used, so it holds nothing to dispose; keep-alive pings may still touch it after the end.")]
internal sealed class RunWebSocketConnection
{
    private const string InvalidRequestCode = SubscribeError.InvalidRequestCode;
    private const string UnavailableCode = "unavailable";
    private readonly RunWebSocketEndpoint _endpoint;
    private readonly HttpContext _http;
    private readonly string _tenant;
    private readonly SemaphoreSlim _sendGate = new(1, 1);
    private readonly Lock _lock = new();
    private WebSocket? _socket;
    private Dictionary<string, ActiveSubscription>? _subscriptions;
    private int _invalidMessages;
    private long _lastActivity;

    public RunWebSocketConnection(RunWebSocketEndpoint endpoint, HttpContext http, string tenant)
    {
        _endpoint = endpoint;
        _http = http;
        _tenant = tenant;
    }

    private CancellationToken Aborted => _http.RequestAborted;

    public async Task RunAsync()
    {
        WebSocketCloseStatus? closeWith = null;
        try
        {
            _socket = await _http.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext { KeepAliveInterval = TimeSpan.Zero });
            Touch();
            _endpoint.KeepAlive.Add(this);
            RunWebSocketLog.Connected(_endpoint.Logger, _tenant);
            closeWith = await ReceiveLoopAsync(_socket);
        }
        catch (Exception e) when (e is WebSocketException or IOException or OperationCanceledException or ConnectionAbortedException)
        {
            // The client went away without a close handshake.
        }
        finally
        {
            _endpoint.KeepAlive.Remove(this);
            await StopAllAsync();
            _endpoint.Closed(_tenant);
        }
        if (closeWith is { } status && _socket is { State: WebSocketState.Open or WebSocketState.CloseReceived })
        {
            await CloseAsync(status);
        }
        _socket?.Dispose();
    }

    /// <summary>The keep-alive: a ping frame when nothing went either way for the interval; skipped while a send is under way.</summary>
    public async Task PingIfIdleAsync(TimeSpan interval)
    {
        if (_socket is not { State: WebSocketState.Open } || _endpoint.Time.GetElapsedTime(Volatile.Read(ref _lastActivity)) < interval
            || !_sendGate.Wait(0))
        {
            return;
        }
        try
        {
            using var frame = RunWebSocketFrames.Answer("ping", requestId: null);
            await _socket.SendAsync(frame.Written, WebSocketMessageType.Text, endOfMessage: true, Aborted);
            Touch();
        }
        catch (Exception e) when (e is WebSocketException or IOException or OperationCanceledException or ObjectDisposedException)
        {
            // A dead peer: the receive loop sees it too and ends the connection.
        }
        finally
        {
            _sendGate.Release();
        }
    }

    /// <summary>
    /// The gateway is stopping: tell the client (close 1001, "going away": it resumes on another gateway with its cursor)
    /// and end the connection, so the server's shutdown does not wait for idle sockets.
    /// </summary>
    public async Task GoAwayAsync()
    {
        try
        {
            if (_socket is { State: WebSocketState.Open } socket && await _sendGate.WaitAsync(TimeSpan.FromSeconds(1)))
            {
                try
                {
                    using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(1));
                    await socket.CloseOutputAsync(WebSocketCloseStatus.EndpointUnavailable, "gateway shutting down", timeout.Token);
                }
                finally
                {
                    _sendGate.Release();
                }
            }
        }
        catch (Exception e) when (e is WebSocketException or IOException or OperationCanceledException or ObjectDisposedException)
        {
            // Gone already, or too slow to take the close: aborted below.
        }
        // The client answers the close and the receive loop ends the connection; one that does not answer is cut.
        for (var waited = 0; waited < 100 && _socket is { State: WebSocketState.Open or WebSocketState.CloseSent }; waited++)
        {
            await Task.Delay(20);
        }
        if (_socket is not { State: WebSocketState.Closed })
        {
            _http.Abort();
        }
    }

    /// <returns>The close status to send (the client closed, or broke the rules too often), or null when the socket is gone.</returns>
    private async Task<WebSocketCloseStatus?> ReceiveLoopAsync(WebSocket socket)
    {
        while (true)
        {
            // A zero-byte read waits for the next frame without a buffer: idle connections hold none.
            var first = await socket.ReceiveAsync(Memory<byte>.Empty, Aborted);
            if (first.MessageType == WebSocketMessageType.Close)
            {
                return WebSocketCloseStatus.NormalClosure;
            }
            Touch();
            var options = _endpoint.Options;
            var tenantLimit = _endpoint.Quotas.For(_tenant).MaxMessageBytes;
            var limit = Math.Min(options.MaxMessageBytes, tenantLimit ?? int.MaxValue);
            var buffer = ArrayPool<byte>.Shared.Rent(Math.Min(limit + 1, 4096));
            try
            {
                var length = 0;
                long total = 0;
                var end = first.EndOfMessage;
                while (!end)
                {
                    if (length == buffer.Length)
                    {
                        if (length > limit)
                        {
                            length = 0; // past the limit: count the rest and drop it
                        }
                        else
                        {
                            var larger = ArrayPool<byte>.Shared.Rent(Math.Min(limit + 1, buffer.Length * 2));
                            buffer.AsSpan(0, length).CopyTo(larger);
                            ArrayPool<byte>.Shared.Return(buffer);
                            buffer = larger;
                        }
                    }
                    var next = await socket.ReceiveAsync(buffer.AsMemory(length), Aborted);
                    if (next.MessageType == WebSocketMessageType.Close)
                    {
                        return WebSocketCloseStatus.NormalClosure;
                    }
                    length += next.Count;
                    total += next.Count;
                    end = next.EndOfMessage;
                }
                if (total > limit)
                {
                    var refused = tenantLimit is { } tenantMax && total > tenantMax
                        ? _endpoint.Rejections.Record(_tenant, QuotaRejection.MessageSize(total, tenantMax))
                        : null;
                    await InvalidAsync(null, refused?.Code ?? InvalidRequestCode,
                        refused?.Message ?? $"The message is {total} bytes; this endpoint takes at most {limit} bytes.");
                }
                else if (first.MessageType != WebSocketMessageType.Text)
                {
                    await InvalidAsync(null, InvalidRequestCode, "Messages are JSON text frames; binary frames are not taken.");
                }
                else
                {
                    await HandleAsync(buffer.AsMemory(0, length));
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
            if (_invalidMessages >= options.MaxInvalidMessages)
            {
                RunWebSocketLog.ClosedForInvalidMessages(_endpoint.Logger, _tenant, _invalidMessages);
                return WebSocketCloseStatus.PolicyViolation;
            }
        }
    }

    private Task HandleAsync(ReadOnlyMemory<byte> message)
    {
        RunWebSocketRequest? request;
        try
        {
            request = JsonSerializer.Deserialize(message.Span, RunWebSocketJsonContext.Default.RunWebSocketRequest);
        }
        catch (JsonException e)
        {
            return InvalidAsync(null, InvalidRequestCode, $"The message is not a valid request: {e.Message}");
        }
        if (request is null)
        {
            return InvalidAsync(null, InvalidRequestCode, "The message must be a JSON object.");
        }
        if (request.RequestId is { Length: 0 or > RunWebSocketRequest.MaxRequestIdLength })
        {
            return InvalidAsync(null, InvalidRequestCode, $"requestId must be 1 to {RunWebSocketRequest.MaxRequestIdLength} characters.", "requestId");
        }
        if (request.Type is RunWebSocketRequest.Ping)
        {
            return SendAsync(RunWebSocketFrames.Answer("pong", request.RequestId), Aborted);
        }
        if (request.Type is not (RunWebSocketRequest.Subscribe or RunWebSocketRequest.Ack or RunWebSocketRequest.Unsubscribe))
        {
            return InvalidAsync(request.RequestId, InvalidRequestCode, "type must be one of subscribe, ack, unsubscribe, ping.", "type");
        }
        if (string.IsNullOrEmpty(request.RunId))
        {
            return InvalidAsync(request.RequestId, InvalidRequestCode, "runId is required.", "runId");
        }
        return request.Type switch
        {
            RunWebSocketRequest.Subscribe => SubscribeAsync(request, request.RunId),
            RunWebSocketRequest.Ack => AckAsync(request, request.RunId),
            _ => UnsubscribeAsync(request, request.RunId),
        };
    }

    private async Task SubscribeAsync(RunWebSocketRequest request, string runId)
    {
        int active;
        lock (_lock)
        {
            if (_subscriptions?.GetValueOrDefault(runId) is { Ended: false })
            {
                active = -1;
            }
            else
            {
                active = _subscriptions?.Values.Count(s => !s.Ended) ?? 0;
            }
        }
        if (active < 0)
        {
            await ErrorAsync(request.RequestId, runId, InvalidRequestCode, "This connection already follows this run; unsubscribe first.", "runId");
            return;
        }
        if (_endpoint.Quotas.For(_tenant).MaxSubscriptionsPerConnection is { } max && active >= max)
        {
            var refused = _endpoint.Rejections.Record(_tenant, QuotaRejection.Subscriptions(max));
            await ErrorAsync(request.RequestId, runId, refused.Code, refused.Message);
            return;
        }
        SubscribeOutcome outcome;
        try
        {
            outcome = await _endpoint.Subscriptions.SubscribeAsync(new RunSubscribeRequest
            {
                TenantId = _tenant,
                RunId = runId,
                SubscriptionId = request.SubscriptionId,
                Cursor = request.Cursor,
                Subject = TenantIds.SubjectOf(_http.User),
                Transport = _endpoint.Transport,
            }, Aborted);
        }
        catch (Exception e) when (!Aborted.IsCancellationRequested)
        {
            RunWebSocketLog.SubscribeFailed(_endpoint.Logger, e, runId);
            await ErrorAsync(request.RequestId, runId, UnavailableCode, "The run's events cannot be read now; retry shortly.");
            return;
        }
        if (!outcome.Opened)
        {
            await ErrorAsync(request.RequestId, runId, outcome.Error.Code, outcome.Error.Message, outcome.Error.Field);
            return;
        }
        var entry = new ActiveSubscription(outcome.Subscription, CancellationTokenSource.CreateLinkedTokenSource(Aborted));
        lock (_lock)
        {
            _subscriptions ??= new Dictionary<string, ActiveSubscription>(StringComparer.Ordinal);
            ForgetEnded();
            _subscriptions[runId] = entry;
        }
        // The answer goes out before the pump starts, so no event precedes it.
        await SendAsync(RunWebSocketFrames.Answer("subscribed", request.RequestId, runId, outcome.Subscription.SubscriptionId), Aborted);
        entry.Pump = PumpAsync(runId, entry);
    }

    private async Task AckAsync(RunWebSocketRequest request, string runId)
    {
        if (RunSubscriptions.CheckAckCursor(request.Cursor) is { } invalid)
        {
            await ErrorAsync(request.RequestId, runId, invalid.Code, invalid.Message, invalid.Field);
            return;
        }
        ActiveSubscription? entry;
        lock (_lock)
        {
            entry = _subscriptions?.GetValueOrDefault(runId);
        }
        if (entry is null)
        {
            // Also what another tenant's run id gives: this connection never subscribed to it.
            await ErrorAsync(request.RequestId, runId, SubscribeError.RunNotFound.Code, SubscribeError.RunNotFound.Message);
            return;
        }
        entry.Subscription.Acknowledge(request.Cursor!);
        if (request.RequestId is not null)
        {
            await SendAsync(RunWebSocketFrames.Answer("acked", request.RequestId, runId), Aborted);
        }
    }

    private async Task UnsubscribeAsync(RunWebSocketRequest request, string runId)
    {
        ActiveSubscription? entry;
        lock (_lock)
        {
            if (_subscriptions?.Remove(runId, out entry) != true)
            {
                entry = null;
            }
        }
        if (entry is null)
        {
            await ErrorAsync(request.RequestId, runId, SubscribeError.RunNotFound.Code, SubscribeError.RunNotFound.Message);
            return;
        }
        await entry.StopAsync();
        await SendAsync(RunWebSocketFrames.Answer("unsubscribed", request.RequestId, runId), Aborted);
    }

    /// <summary>Sends one subscription's events, then "end": after the terminal event, or with the code that ended it early.</summary>
    private async Task PumpAsync(string runId, ActiveSubscription entry)
    {
        await Task.Yield(); // the receive loop goes back to reading at once
        PooledFrame? last = null;
        try
        {
            await foreach (var runEvent in entry.Subscription.EventsAsync(entry.Stop.Token))
            {
                await SendAsync(RunWebSocketFrames.Event(runEvent), entry.Stop.Token);
            }
            last = RunWebSocketFrames.End(runId);
        }
        catch (RunStreamEndedException e)
        {
            // slow_consumer or unavailable: the client subscribes again with its cursor.
            last = RunWebSocketFrames.End(runId, e.Code, WithoutCode(e.Message));
        }
        catch (Exception e) when (entry.Stop.IsCancellationRequested || e is WebSocketException or IOException or ConnectionAbortedException)
        {
            // Unsubscribed, or the connection is gone.
        }
        catch (Exception e)
        {
            RunWebSocketLog.StreamFailed(_endpoint.Logger, e, runId);
            last = RunWebSocketFrames.End(runId, UnavailableCode, "The run's events cannot be read now; subscribe again with your cursor.");
        }
        finally
        {
            entry.Subscription.Dispose();
            entry.Ended = true;
        }
        if (last is not null)
        {
            await SendQuietlyAsync(last);
        }
    }

    private Task InvalidAsync(string? requestId, string code, string message, string? field = null)
    {
        _invalidMessages++;
        RunWebSocketLog.InvalidMessage(_endpoint.Logger, _tenant, code, message);
        return ErrorAsync(requestId, null, code, message, field);
    }

    private Task ErrorAsync(string? requestId, string? runId, string code, string message, string? field = null) =>
        SendAsync(RunWebSocketFrames.Error(requestId, runId, code, message, field), Aborted);

    /// <summary>One frame at a time on the socket. Only waiting for the turn is cancellable: a send cut mid-frame would break the socket.</summary>
    private async Task SendAsync(PooledFrame frame, CancellationToken cancellationToken)
    {
        using (frame)
        {
            await _sendGate.WaitAsync(cancellationToken);
            try
            {
                await _socket!.SendAsync(frame.Written, WebSocketMessageType.Text, endOfMessage: true, Aborted);
                Touch();
            }
            finally
            {
                _sendGate.Release();
            }
        }
    }

    private async Task SendQuietlyAsync(PooledFrame frame)
    {
        try
        {
            await SendAsync(frame, Aborted);
        }
        catch (Exception e) when (e is WebSocketException or IOException or OperationCanceledException or ObjectDisposedException)
        {
            // The connection is gone: nobody to tell.
        }
    }

    private async Task StopAllAsync()
    {
        ActiveSubscription[] all;
        lock (_lock)
        {
            all = _subscriptions is null ? [] : [.. _subscriptions.Values];
            _subscriptions = null;
        }
        foreach (var entry in all)
        {
            await entry.StopAsync();
        }
    }

    private async Task CloseAsync(WebSocketCloseStatus status)
    {
        try
        {
            var reason = status == WebSocketCloseStatus.PolicyViolation ? "too many invalid messages" : null;
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Aborted);
            timeout.CancelAfter(TimeSpan.FromSeconds(5));
            await _socket!.CloseOutputAsync(status, reason, timeout.Token);
        }
        catch (Exception e) when (e is WebSocketException or IOException or OperationCanceledException or ObjectDisposedException)
        {
            // Closing a connection that is already gone.
        }
    }

    /// <summary>Ended subscriptions stay for late acks (a client acks its last event after the end) until the next subscribe.</summary>
    private void ForgetEnded()
    {
        List<string>? ended = null;
        foreach (var (runId, entry) in _subscriptions!)
        {
            if (entry.Ended)
            {
                (ended ??= []).Add(runId);
            }
        }
        foreach (var runId in ended ?? [])
        {
            _subscriptions.Remove(runId, out var entry);
            entry!.Stop.Dispose();
        }
    }

    private void Touch() => Volatile.Write(ref _lastActivity, _endpoint.Time.GetTimestamp());

    private static string WithoutCode(string message) =>
        message.StartsWith('[') && message.IndexOf("] ", StringComparison.Ordinal) is var end and > 0 ? message[(end + 2)..] : message;

    private sealed class ActiveSubscription(RunSubscription subscription, CancellationTokenSource stop)
    {
        public RunSubscription Subscription { get; } = subscription;

        public CancellationTokenSource Stop { get; } = stop;

        public Task? Pump { get; set; }

        public volatile bool Ended;

        public async Task StopAsync()
        {
            await Stop.CancelAsync();
            if (Pump is { } pump)
            {
                await pump;
            }
            Subscription.Dispose();
            Stop.Dispose();
        }
    }
}

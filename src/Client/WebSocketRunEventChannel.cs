using System.Collections.Concurrent;
using System.Net;
using System.Net.WebSockets;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Threading.Channels;
using AgentOrchestrator.Contracts;
using Microsoft.Extensions.Logging;

namespace AgentOrchestrator.Client;

/// <summary>
/// Run event streams over one shared plain WebSocket (/v1/ws, docs/api.md): a subscribe per stream, answered before
/// its events, events routed by run id, "end" closing a stream (with a code when it ended early). Stream errors are
/// typed <see cref="AgentOrchestratorException"/>s; a lost connection fails every open stream with a
/// <see cref="WebSocketException"/>, which the client treats as a connection loss and resumes.
/// </summary>
internal sealed class WebSocketRunEventChannel(Uri baseAddress, AgentOrchestratorClientOptions options, ReconnectPolicy reconnect, ILogger logger)
    : IRunEventChannel
{
    private readonly Uri _address = new UriBuilder(new Uri(baseAddress, "v1/ws")) { Scheme = baseAddress.Scheme == Uri.UriSchemeHttps ? "wss" : "ws" }.Uri;
    private SharedConnection<Connection>? _shared;

    // Created on first use: its connect callback is this instance's method, which a field initializer cannot name.
    private SharedConnection<Connection> Shared => LazyInitializer.EnsureInitialized(ref _shared, () => new(this, _address, reconnect, logger,
        c => c.IsOpen, ConnectOnceAsync));

    public async Task<IAsyncEnumerator<RunEvent>> OpenAsync(string runId, string? cursor, CancellationToken cancellationToken)
    {
        var connection = await Shared.GetAsync(cancellationToken);
        return connection.StreamAsync(runId, cursor, cancellationToken).GetAsyncEnumerator(cancellationToken);
    }

    public Task? AckAsync(string runId, string cursor, CancellationToken cancellationToken) =>
        Shared.OpenOrNull?.SendAsync(new WebSocketRequestBody("ack", null, runId, cursor), cancellationToken);

    public ValueTask DisposeAsync() => Shared.DisposeAsync();

    /// <summary>One connect attempt (the backoff around it retries): a refused upgrade's status and Retry-After are read.</summary>
    private async Task<ConnectBackoff.Attempt<Connection>> ConnectOnceAsync(CancellationToken cancellationToken)
    {
        var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        if (options.AccessTokenProvider is { } tokens)
        {
            socket.Options.SetRequestHeader("Authorization", "Bearer " + await tokens(cancellationToken));
        }
        else
        {
            socket.Options.SetRequestHeader(AgentOrchestratorClient.ApiKeyHeader, options.ApiKey);
        }
        try
        {
            await socket.ConnectAsync(_address, cancellationToken);
            return new ConnectBackoff.Attempt<Connection>(new Connection(socket, logger), null, null, null);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            var status = socket.HttpStatusCode == 0 ? (HttpStatusCode?)null : socket.HttpStatusCode;
            TimeSpan? retryAfter = socket.HttpResponseHeaders?.TryGetValue("Retry-After", out var values) == true
                && double.TryParse(values.FirstOrDefault(), System.Globalization.CultureInfo.InvariantCulture, out var seconds)
                ? TimeSpan.FromSeconds(seconds)
                : null;
            socket.Dispose();
            return new ConnectBackoff.Attempt<Connection>(null, e, status, retryAfter);
        }
    }

    /// <summary>One open socket: its receive loop routes answers to waiting requests and events to their run's stream.</summary>
    private sealed class Connection : IAsyncDisposable
    {
        private readonly ClientWebSocket _socket;
        private readonly ILogger _logger;
        private readonly SemaphoreSlim _sendGate = new(1, 1);
        private readonly CancellationTokenSource _stop = new();
        private readonly ConcurrentDictionary<string, Channel<RunEvent>> _streams = new(StringComparer.Ordinal);
        private readonly ConcurrentDictionary<string, TaskCompletionSource<JsonElement>> _pending = new(StringComparer.Ordinal);
        private readonly Task _receiving;
        private long _nextRequestId;
        private volatile bool _closed;

        public Connection(ClientWebSocket socket, ILogger logger)
        {
            _socket = socket;
            _logger = logger;
            _receiving = ReceiveLoopAsync();
        }

        public bool IsOpen => !_closed && _socket.State == WebSocketState.Open;

        public async IAsyncEnumerable<RunEvent> StreamAsync(string runId, string? cursor, [EnumeratorCancellation] CancellationToken cancellationToken)
        {
            var events = Channel.CreateUnbounded<RunEvent>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
            if (!_streams.TryAdd(runId, events))
            {
                throw new InvalidRequestException($"This client already streams run {runId}; end that stream first.", (System.Net.HttpStatusCode?)null);
            }
            try
            {
                // Registered before the subscribe goes out: the receive loop may route the first events before this resumes.
                var answer = await RequestAsync(new WebSocketRequestBody("subscribe", null, runId, cursor), cancellationToken);
                if (ErrorOf(answer, runId) is { } refused)
                {
                    throw refused;
                }
                await foreach (var runEvent in events.Reader.ReadAllAsync(cancellationToken))
                {
                    yield return runEvent;
                }
            }
            finally
            {
                _streams.TryRemove(new KeyValuePair<string, Channel<RunEvent>>(runId, events));
                if (!events.Reader.Completion.IsCompleted && IsOpen)
                {
                    // The consumer stopped early: the gateway stops sending (and lets this run be followed again).
                    _ = SendQuietlyAsync(new WebSocketRequestBody("unsubscribe", null, runId, null));
                }
            }
        }

        public async Task SendAsync(WebSocketRequestBody request, CancellationToken cancellationToken)
        {
            var bytes = JsonSerializer.SerializeToUtf8Bytes(request, ClientJsonContext.Default.WebSocketRequestBody);
            await _sendGate.WaitAsync(cancellationToken);
            try
            {
                // Not cancellable once started: a send cut mid-frame would break the socket for every stream.
                await _socket.SendAsync(bytes, WebSocketMessageType.Text, endOfMessage: true, _stop.Token);
            }
            finally
            {
                _sendGate.Release();
            }
        }

        public async ValueTask DisposeAsync()
        {
            _closed = true;
            try
            {
                if (_socket.State == WebSocketState.Open)
                {
                    using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                    await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, timeout.Token);
                }
            }
            catch (Exception e) when (e is WebSocketException or OperationCanceledException or ObjectDisposedException)
            {
                // Closing a connection that is already gone.
            }
            await _stop.CancelAsync();
            _socket.Abort();
            await _receiving;
            _socket.Dispose();
            _stop.Dispose();
            _sendGate.Dispose();
        }

        private async Task<JsonElement> RequestAsync(WebSocketRequestBody request, CancellationToken cancellationToken)
        {
            var requestId = Interlocked.Increment(ref _nextRequestId).ToString(System.Globalization.CultureInfo.InvariantCulture);
            var answer = new TaskCompletionSource<JsonElement>(TaskCreationOptions.RunContinuationsAsynchronously);
            _pending[requestId] = answer;
            try
            {
                if (_closed)
                {
                    throw new WebSocketException(WebSocketError.ConnectionClosedPrematurely, "The connection to the gateway was lost.");
                }
                await SendAsync(request with { RequestId = requestId }, cancellationToken);
                return await answer.Task.WaitAsync(cancellationToken);
            }
            finally
            {
                _pending.TryRemove(requestId, out _);
            }
        }

        private async Task SendQuietlyAsync(WebSocketRequestBody request)
        {
            try
            {
                await SendAsync(request, _stop.Token);
            }
            catch (Exception e) when (e is WebSocketException or OperationCanceledException or ObjectDisposedException)
            {
                // The connection is going away, and the subscription with it.
            }
        }

        private async Task ReceiveLoopAsync()
        {
            var buffer = new byte[8 * 1024];
            Exception? failure = null;
            try
            {
                using var message = new MemoryStream();
                while (true)
                {
                    var result = await _socket.ReceiveAsync(buffer, _stop.Token);
                    if (result.MessageType == WebSocketMessageType.Close)
                    {
                        failure = new WebSocketException(WebSocketError.ConnectionClosedPrematurely,
                            $"The gateway closed the connection ({_socket.CloseStatus} {_socket.CloseStatusDescription}).");
                        return;
                    }
                    message.Write(buffer, 0, result.Count);
                    if (result.EndOfMessage)
                    {
                        Route(message.GetBuffer().AsSpan(0, (int)message.Length));
                        message.SetLength(0);
                    }
                }
            }
            catch (Exception e)
            {
                failure = e is WebSocketException ? e : new WebSocketException(WebSocketError.ConnectionClosedPrematurely, e.Message, e);
            }
            finally
            {
                _closed = true;
                failure ??= new WebSocketException(WebSocketError.ConnectionClosedPrematurely, "The connection to the gateway was lost.");
                foreach (var stream in _streams.Values)
                {
                    stream.Writer.TryComplete(failure);
                }
                foreach (var pending in _pending.Values)
                {
                    pending.TrySetException(failure);
                }
            }
        }

        private void Route(ReadOnlySpan<byte> frame)
        {
            using var document = JsonDocument.Parse(frame.ToArray());
            var root = document.RootElement;
            var type = StringOf(root, "type");
            var runId = StringOf(root, "runId");
            if (StringOf(root, "requestId") is { } requestId)
            {
                if (_pending.TryGetValue(requestId, out var waiting))
                {
                    waiting.TrySetResult(root.Clone());
                }
                return;
            }
            switch (type)
            {
                case "event":
                    var runEvent = root.GetProperty("event").Deserialize(ClientJsonContext.Default.RunEvent)!;
                    if (_streams.TryGetValue(runEvent.RunId, out var events))
                    {
                        events.Writer.TryWrite(runEvent);
                    }
                    break;
                case "end" when runId is not null && _streams.TryGetValue(runId, out var ended):
                    ended.Writer.TryComplete(ErrorOf(root, runId));
                    break;
                case "error":
                    // An answer to an ack sent without a request id (acks are best effort): nothing waits for it.
                    var reason = StringOf(root, "message") ?? "refused";
                    ClientLog.AckFailedAgain(_logger, runId ?? "?", "?", reason);
                    break;
                default:
                    break; // keep-alive pings and answers nobody waits for
            }
        }

        /// <summary>The typed error an error answer or an early end carries; null for a success or a normal end.</summary>
        private static AgentOrchestratorException? ErrorOf(JsonElement frame, string runId)
        {
            if (StringOf(frame, "code") is not { } code)
            {
                return null;
            }
            TimeSpan? retryAfter = frame.TryGetProperty("retryAfterSeconds", out var seconds) && seconds.TryGetDouble(out var value)
                ? TimeSpan.FromSeconds(value)
                : null;
            return ErrorMapping.FromCode(code, StringOf(frame, "message") ?? code, null, retryAfter, runId, null);
        }

        private static string? StringOf(JsonElement element, string name) =>
            element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
    }
}

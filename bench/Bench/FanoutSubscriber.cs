using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using AgentOrchestrator.Contracts;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;

namespace AgentOrchestrator.Bench;

/// <summary>One fan-out subscriber: a connection that subscribes to one run and reports each event's type and model emit stamp.</summary>
internal abstract class FanoutSubscriber : IAsyncDisposable
{
    public const string SignalR = "signalr";
    public const string WebSocket = "websocket";

    public static FanoutSubscriber Create(string transport, GatewayClient client, Uri gateway) => transport switch
    {
        SignalR => new SignalRSubscriber(client.NewHub()),
        WebSocket => new PlainWebSocketSubscriber(gateway, client.Token),
        _ => throw new NotSupportedException($"--transport {transport}: '{SignalR}' or '{WebSocket}'."),
    };

    public abstract Task StartAsync(CancellationToken cancel);

    /// <summary>Reads the run's events until its end; a subscription the gateway ends early throws <see cref="EndedEarlyException"/>.</summary>
    public abstract IAsyncEnumerable<(string Type, long? ModelEmittedAtUs)> ReadAsync(string runId, CancellationToken cancel);

    public abstract ValueTask DisposeAsync();

    public sealed class EndedEarlyException(string message) : Exception(message);

    private sealed class SignalRSubscriber(HubConnection hub) : FanoutSubscriber
    {
        public override Task StartAsync(CancellationToken cancel) => hub.StartAsync(cancel);

        public override async IAsyncEnumerable<(string Type, long? ModelEmittedAtUs)> ReadAsync(string runId,
            [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancel)
        {
            var events = hub.StreamAsync<RunEvent>("Subscribe", runId, null, cancel).GetAsyncEnumerator(cancel);
            while (true)
            {
                try
                {
                    if (!await events.MoveNextAsync())
                    {
                        break;
                    }
                }
                catch (HubException e)
                {
                    throw new EndedEarlyException(e.Message); // e.g. [slow_consumer]
                }
                yield return (events.Current.Type, events.Current.ModelEmittedAtUs);
            }
        }

        public override ValueTask DisposeAsync() => hub.DisposeAsync();
    }

    /// <summary>/v1/ws: one subscribe message, then event frames until the subscription's end frame.</summary>
    private sealed class PlainWebSocketSubscriber(Uri gateway, string token) : FanoutSubscriber
    {
        private readonly ClientWebSocket _socket = new();

        public override Task StartAsync(CancellationToken cancel)
        {
            _socket.Options.SetRequestHeader("Authorization", "Bearer " + token);
            var address = new UriBuilder(new Uri(gateway, "v1/ws")) { Scheme = gateway.Scheme == "https" ? "wss" : "ws" }.Uri;
            return _socket.ConnectAsync(address, cancel);
        }

        public override async IAsyncEnumerable<(string Type, long? ModelEmittedAtUs)> ReadAsync(string runId,
            [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancel)
        {
            var subscribe = JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, string> { ["type"] = "subscribe", ["requestId"] = "1", ["runId"] = runId });
            await _socket.SendAsync(subscribe, WebSocketMessageType.Text, endOfMessage: true, cancel);
            var buffer = new byte[16 * 1024];
            using var message = new MemoryStream();
            while (true)
            {
                message.SetLength(0);
                ValueWebSocketReceiveResult received;
                do
                {
                    received = await _socket.ReceiveAsync(buffer.AsMemory(), cancel);
                    if (received.MessageType == WebSocketMessageType.Close)
                    {
                        throw new EndedEarlyException($"the gateway closed the connection ({_socket.CloseStatus})");
                    }
                    message.Write(buffer, 0, received.Count);
                }
                while (!received.EndOfMessage);

                using var frame = JsonDocument.Parse(message.GetBuffer().AsMemory(0, (int)message.Length));
                var root = frame.RootElement;
                switch (root.GetProperty("type").GetString())
                {
                    case "event":
                        var runEvent = root.GetProperty("event");
                        long? emitted = runEvent.TryGetProperty("modelEmittedAtUs", out var stamp) && stamp.ValueKind == JsonValueKind.Number ? stamp.GetInt64() : null;
                        yield return (runEvent.GetProperty("type").GetString()!, emitted);
                        break;
                    case "end" when root.TryGetProperty("code", out var code):
                        throw new EndedEarlyException($"[{code.GetString()}] ended early");
                    case "end":
                        yield break;
                    case "error":
                        throw new EndedEarlyException(Encoding.UTF8.GetString(message.GetBuffer(), 0, (int)message.Length));
                }
            }
        }

        public override async ValueTask DisposeAsync()
        {
            if (_socket.State == WebSocketState.Open)
            {
                try
                {
                    await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
                }
                catch (WebSocketException)
                {
                    // the gateway went first: nothing left to close
                }
            }
            _socket.Dispose();
        }
    }
}

using System.Net;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using AgentOrchestrator.Contracts;

namespace AgentOrchestrator.Gateway.Tests.WebSockets;

/// <summary>A raw client of /v1/ws for protocol tests: sends JSON text frames, reads frames as JSON, sees close codes.</summary>
public sealed class WebSocketTestClient : IAsyncDisposable
{
    private static readonly TimeSpan FrameTimeout = TimeSpan.FromSeconds(60);
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly ClientWebSocket _socket;

    private WebSocketTestClient(ClientWebSocket socket) => _socket = socket;

    public WebSocketState State => _socket.State;

    public WebSocketCloseStatus? CloseStatus => _socket.CloseStatus;

    public static Uri EndpointOf(Uri gateway) => new UriBuilder(new Uri(gateway, "v1/ws")) { Scheme = gateway.Scheme == "https" ? "wss" : "ws" }.Uri;

    /// <summary>Connects with the token as access_token (as browsers must), or with <paramref name="configure"/>'s headers.</summary>
    public static async Task<WebSocketTestClient> ConnectAsync(Uri gateway, string? token, Action<ClientWebSocketOptions>? configure = null,
        HttpMessageInvoker? invoker = null)
    {
        var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        configure?.Invoke(socket.Options);
        var uri = EndpointOf(gateway);
        if (token is not null)
        {
            uri = new Uri(uri + "?access_token=" + Uri.EscapeDataString(token));
        }
        using var timeout = new CancellationTokenSource(FrameTimeout);
        try
        {
            await socket.ConnectAsync(uri, invoker, timeout.Token);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        return new WebSocketTestClient(socket);
    }

    /// <summary>The HTTP status a refused upgrade got (401, 429, 503), or null when the connection opened.</summary>
    public static async Task<HttpStatusCode?> RefusedWithAsync(Uri gateway, string? token, Action<ClientWebSocketOptions>? configure = null)
    {
        using var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        configure?.Invoke(socket.Options);
        var uri = EndpointOf(gateway);
        if (token is not null)
        {
            uri = new Uri(uri + "?access_token=" + Uri.EscapeDataString(token));
        }
        try
        {
            using var timeout = new CancellationTokenSource(FrameTimeout);
            await socket.ConnectAsync(uri, timeout.Token);
            await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
            return null;
        }
        catch (WebSocketException)
        {
            return socket.HttpStatusCode;
        }
    }

    public Task SendAsync(object message) => SendTextAsync(JsonSerializer.Serialize(message, Json));

    public async Task SendTextAsync(string text)
    {
        using var timeout = new CancellationTokenSource(FrameTimeout);
        await _socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, endOfMessage: true, timeout.Token);
    }

    public async Task SendBinaryAsync(byte[] bytes)
    {
        using var timeout = new CancellationTokenSource(FrameTimeout);
        await _socket.SendAsync(bytes, WebSocketMessageType.Binary, endOfMessage: true, timeout.Token);
    }

    /// <summary>The next frame, or null when the gateway closed the connection.</summary>
    public async Task<JsonElement?> ReceiveAsync()
    {
        using var timeout = new CancellationTokenSource(FrameTimeout);
        using var message = new MemoryStream();
        var buffer = new byte[16 * 1024];
        while (true)
        {
            var result = await _socket.ReceiveAsync(buffer, timeout.Token);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                return null;
            }
            message.Write(buffer, 0, result.Count);
            if (result.EndOfMessage)
            {
                return JsonDocument.Parse(message.ToArray()).RootElement.Clone();
            }
        }
    }

    /// <summary>Frames until one of <paramref name="type"/> (included); skips keep-alive pings.</summary>
    public async Task<List<JsonElement>> ReceiveUntilAsync(string type, string? runId = null)
    {
        var frames = new List<JsonElement>();
        while (true)
        {
            var frame = await ReceiveAsync() ?? throw new InvalidOperationException($"closed before a '{type}' frame; got {frames.Count} frames");
            if (TypeOf(frame) == "ping")
            {
                continue;
            }
            frames.Add(frame);
            if (TypeOf(frame) == type && (runId is null || (frame.TryGetProperty("runId", out var id) && id.GetString() == runId)))
            {
                return frames;
            }
        }
    }

    /// <summary>The next frame that is not a keep-alive ping.</summary>
    public async Task<JsonElement> NextAsync()
    {
        while (true)
        {
            var frame = await ReceiveAsync() ?? throw new InvalidOperationException("closed");
            if (TypeOf(frame) != "ping")
            {
                return frame;
            }
        }
    }

    public static string? TypeOf(JsonElement frame) => frame.GetProperty("type").GetString();

    public static RunEvent EventOf(JsonElement frame) => frame.GetProperty("event").Deserialize<RunEvent>(Json)!;

    public static List<RunEvent> EventsOf(IEnumerable<JsonElement> frames) => [.. frames.Where(f => TypeOf(f) == "event").Select(EventOf)];

    public async Task CloseAsync()
    {
        if (_socket.State == WebSocketState.Open)
        {
            using var timeout = new CancellationTokenSource(FrameTimeout);
            await _socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, timeout.Token);
        }
    }

    public ValueTask DisposeAsync()
    {
        _socket.Dispose();
        return ValueTask.CompletedTask;
    }
}

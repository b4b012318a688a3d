using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace AgentOrchestrator.ModelSimulator.Tests.Support;

/// <summary>Builds Chat Completions request bodies and sends them.</summary>
internal static class ChatRequests
{
    public const string Path = "v1/chat/completions";

    public static JsonObject User(string content, string model = "sim-1") => new()
    {
        ["model"] = model,
        ["messages"] = new JsonArray(Message("user", content)),
    };

    public static JsonObject Message(string role, string content) => new()
    {
        ["role"] = role,
        ["content"] = content,
    };

    public static JsonObject Streaming(this JsonObject request, bool includeUsage = false)
    {
        request["stream"] = true;
        if (includeUsage)
        {
            request["stream_options"] = new JsonObject { ["include_usage"] = true };
        }

        return request;
    }

    public static JsonObject With(this JsonObject request, string name, JsonNode? value)
    {
        request[name] = value;
        return request;
    }

    public static JsonObject WithTools(this JsonObject request, params string[] names)
    {
        var tools = new JsonArray();
        foreach (string name in names)
        {
            tools.Add(new JsonObject
            {
                ["type"] = "function",
                ["function"] = new JsonObject
                {
                    ["name"] = name,
                    ["parameters"] = new JsonObject { ["type"] = "object" },
                },
            });
        }

        request["tools"] = tools;
        return request;
    }

    public static Task<HttpResponseMessage> SendAsync(
        HttpClient client, JsonObject body, string? fault = null, CancellationToken cancellationToken = default) =>
        SendRawAsync(client, body.ToJsonString(), fault, cancellationToken);

    /// <summary>Returns as soon as headers arrive, so streams can be read as they come.</summary>
    public static async Task<HttpResponseMessage> SendRawAsync(
        HttpClient client, string body, string? fault = null, CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, Path)
        {
            Content = new StringContent(body, Encoding.UTF8, new MediaTypeHeaderValue("application/json")),
        };
        if (fault is not null)
        {
            request.Headers.Add("X-Simulator-Fault", fault);
        }

        return await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
    }

    public static async Task<JsonElement> ReadJsonAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        string text = await response.Content.ReadAsStringAsync(cancellationToken);
        using var document = JsonDocument.Parse(text);
        return document.RootElement.Clone();
    }

    public static async Task<JsonElement> GetStatsAsync(HttpClient client, CancellationToken cancellationToken)
    {
        using HttpResponseMessage response = await client.GetAsync("v1/sim/stats", cancellationToken);
        response.EnsureSuccessStatusCode();
        return await ReadJsonAsync(response, cancellationToken);
    }
}

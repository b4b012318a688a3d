using System.Net.Http.Json;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Options;

namespace AgentOrchestrator.Relay;

/// <summary>Streams one chat completion: reads the model's SSE with HttpClient and yields each chunk as it arrives.</summary>
public sealed class RelayHub(IHttpClientFactory clients, IOptions<RelayOptions> options) : Hub
{
    public const string Path = "/hubs/relay";
    public const string ModelClient = "model";

    public async IAsyncEnumerable<RelayChunk> Stream(string prompt, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "chat/completions")
        {
            Content = JsonContent.Create(new ChatRequest(options.Value.ModelName, true, [new ChatMessage("user", prompt)])),
        };
        using var response = await clients.CreateClient(ModelClient).SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        response.EnsureSuccessStatusCode();
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cancellationToken));
        while (await reader.ReadLineAsync(cancellationToken) is { } line)
        {
            if (!line.StartsWith("data: {", StringComparison.Ordinal))
            {
                continue;
            }
            using var chunk = JsonDocument.Parse(line.AsMemory("data: ".Length));
            var root = chunk.RootElement;
            if (root.GetProperty("choices") is { ValueKind: JsonValueKind.Array } choices && choices.GetArrayLength() > 0
                && choices[0].TryGetProperty("delta", out var delta) && delta.TryGetProperty("content", out var content)
                && content.GetString() is { Length: > 0 } text)
            {
                yield return new RelayChunk(text, root.TryGetProperty("x_emitted_at_us", out var emitted) ? emitted.GetInt64() : 0);
            }
        }
    }

    private sealed record ChatRequest(string Model, bool Stream, IReadOnlyList<ChatMessage> Messages);

    private sealed record ChatMessage(string Role, string Content);
}

using System.Runtime.CompilerServices;
using System.Text.Json;
using AgentOrchestrator.Contracts;

namespace AgentOrchestrator.Gateway.Tests.Delivery;

/// <summary>One Server-Sent Event as a client parses it.</summary>
public sealed record SseMessage(string? Id, string Event, string Data)
{
    private static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web);

    public RunEvent RunEvent => JsonSerializer.Deserialize<RunEvent>(Data, Web)!;
}

/// <summary>A minimal text/event-stream parser (id, event, data lines; a blank line ends a message).</summary>
public static class SseReader
{
    public static async IAsyncEnumerable<SseMessage> ReadAsync(Stream body, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        using var reader = new StreamReader(body);
        string? id = null;
        string type = "message";
        var data = new List<string>();
        while (await reader.ReadLineAsync(cancellationToken) is { } line)
        {
            if (line.Length == 0)
            {
                if (data.Count > 0)
                {
                    yield return new SseMessage(id, type, string.Join('\n', data));
                }
                id = null;
                type = "message";
                data.Clear();
            }
            else if (line.StartsWith("id: ", StringComparison.Ordinal))
            {
                id = line[4..];
            }
            else if (line.StartsWith("event: ", StringComparison.Ordinal))
            {
                type = line[7..];
            }
            else if (line.StartsWith("data: ", StringComparison.Ordinal))
            {
                data.Add(line[6..]);
            }
        }
    }
}

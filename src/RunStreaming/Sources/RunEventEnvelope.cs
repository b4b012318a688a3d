using System.Text.Json;
using System.Text.Json.Serialization;
using AgentOrchestrator.Contracts;

namespace AgentOrchestrator.RunStreaming.Sources;

/// <summary>Reads a <see cref="RunEventsPublished"/> out of the MassTransit JSON envelope a stream message carries.</summary>
internal static class RunEventEnvelope
{
    /// <exception cref="InvalidRunEventMessageException">The body is not an envelope holding a consistent RunEventsPublished.</exception>
    public static RunEventsPublished Parse(ReadOnlyMemory<byte> body)
    {
        RunEventsPublished? message;
        try
        {
            using var envelope = JsonDocument.Parse(body);
            if (envelope.RootElement.ValueKind != JsonValueKind.Object || !envelope.RootElement.TryGetProperty("message", out var payload))
            {
                throw new InvalidRunEventMessageException("the body is not a MassTransit envelope with a \"message\" property");
            }
            message = payload.Deserialize(RunEventStreamJsonContext.Default.RunEventsPublished);
        }
        catch (JsonException e)
        {
            throw new InvalidRunEventMessageException("the body is not valid RunEventsPublished JSON: " + e.Message, e);
        }
        if (message is null || string.IsNullOrEmpty(message.RunId) || string.IsNullOrEmpty(message.TenantId) || message.Events is null)
        {
            throw new InvalidRunEventMessageException("runId, tenantId and events are required");
        }
        foreach (var runEvent in message.Events)
        {
            // The feed files events under the message's tenant and run: an event of another run would leak into it.
            if (runEvent is null || string.IsNullOrEmpty(runEvent.Id) || runEvent.RunId != message.RunId || runEvent.TenantId != message.TenantId)
            {
                throw new InvalidRunEventMessageException("every event needs an id and the message's runId and tenantId");
            }
        }
        return message;
    }
}

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(RunEventsPublished))]
internal sealed partial class RunEventStreamJsonContext : JsonSerializerContext;

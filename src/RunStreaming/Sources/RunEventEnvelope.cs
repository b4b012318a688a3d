using System.Text.Json;
using System.Text.Json.Serialization;
using AgentOrchestrator.Contracts;

namespace AgentOrchestrator.RunStreaming.Sources;

/// <summary>Reads a <see cref="RunEventsPublished"/> out of the MassTransit JSON envelope a stream message carries.</summary>
internal static class RunEventEnvelope
{
    private const string NotAnEnvelope = "the body is not a MassTransit envelope with a \"message\" property";

    /// <exception cref="InvalidRunEventMessageException">The body is not an envelope holding a consistent RunEventsPublished.</exception>
    public static RunEventsPublished Parse(ReadOnlyMemory<byte> body)
    {
        RunEventsPublished? message = null;
        var found = false;
        try
        {
            // One pass: the envelope's other properties (headers, host, addresses) are skipped, not built into a DOM, and
            // "message" is read straight into the type (a DOM first cost as much again; docs/performance.md, issue 12).
            var reader = new Utf8JsonReader(body.Span);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                throw new InvalidRunEventMessageException(NotAnEnvelope);
            }
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (!found && reader.ValueTextEquals("message"u8))
                {
                    reader.Read();
                    message = JsonSerializer.Deserialize(ref reader, RunEventStreamJsonContext.Default.RunEventsPublished);
                    found = true;
                }
                else
                {
                    reader.Skip();
                }
            }
            if (reader.Read())
            {
                throw new JsonException("content after the envelope's end");
            }
        }
        catch (JsonException e)
        {
            throw new InvalidRunEventMessageException("the body is not valid RunEventsPublished JSON: " + e.Message, e);
        }
        if (!found)
        {
            throw new InvalidRunEventMessageException(NotAnEnvelope);
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

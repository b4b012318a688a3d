using System.ClientModel.Primitives;
using System.Text.Json;
using Microsoft.SemanticKernel;
using OpenAI.Chat;

namespace AgentOrchestrator.Workers;

/// <summary>
/// Reads the simulator's per-chunk emit stamp (<c>x_emitted_at_us</c>, Unix µs) from an SK streaming update. SK
/// exposes the OpenAI SDK's chunk as <c>StreamingMessageContent.InnerContent</c>; the SDK keeps unknown
/// JSON properties and writes them back when the model is serialized, which is how the stamp is reached.
/// </summary>
internal static class ModelChunkStamps
{
    private static readonly JsonEncodedText EmittedAtProperty = JsonEncodedText.Encode("x_emitted_at_us");

    public static long? EmittedAtUs(StreamingChatMessageContent update)
    {
        if (update.InnerContent is not StreamingChatCompletionUpdate chunk)
        {
            return null;
        }
        BinaryData json = ModelReaderWriter.Write(chunk, ModelReaderWriterOptions.Json);
        var reader = new Utf8JsonReader(json.ToMemory().Span);
        int depth = 0;
        while (reader.Read())
        {
            switch (reader.TokenType)
            {
                case JsonTokenType.StartObject or JsonTokenType.StartArray:
                    depth++;
                    break;
                case JsonTokenType.EndObject or JsonTokenType.EndArray:
                    depth--;
                    break;
                case JsonTokenType.PropertyName when depth == 1 && reader.ValueTextEquals(EmittedAtProperty.EncodedUtf8Bytes):
                    reader.Read();
                    return reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out long us) ? us : null;
                default:
                    break;
            }
        }
        return null;
    }
}

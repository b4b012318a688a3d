using System.Text.Json;
using AgentOrchestrator.ModelSimulator.Protocol;

namespace AgentOrchestrator.ModelSimulator.Endpoints;

/// <summary>Parses the request body and rejects what OpenAI would reject, with OpenAI's error shape.</summary>
internal static class ChatCompletionRequestReader
{
    /// <summary>Reads and validates the body; on a problem writes a 400 and returns null.</summary>
    public static async Task<ChatCompletionRequest?> ReadAsync(HttpContext context)
    {
        ChatCompletionRequest? request;
        try
        {
            request = await JsonSerializer.DeserializeAsync(
                context.Request.Body, OpenAIJsonContext.Default.ChatCompletionRequest, context.RequestAborted);
        }
        catch (JsonException ex)
        {
            await OpenAIErrorWriter.InvalidRequestAsync(
                context, "invalid_json", $"We could not parse the JSON body of your request: {ex.Message}");
            return null;
        }

        if (request?.Messages is not { Count: > 0 } messages)
        {
            await OpenAIErrorWriter.InvalidRequestAsync(
                context, "missing_required_parameter", "Missing required parameter: 'messages'.", "messages");
            return null;
        }

        foreach (ChatMessage? message in messages)
        {
            if (string.IsNullOrEmpty(message?.Role))
            {
                await OpenAIErrorWriter.InvalidRequestAsync(
                    context, "invalid_value", "Every message needs a 'role'.", "messages");
                return null;
            }
        }

        return request;
    }
}

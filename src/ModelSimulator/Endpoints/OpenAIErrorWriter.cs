using System.Text.Json;
using AgentOrchestrator.ModelSimulator.Protocol;

namespace AgentOrchestrator.ModelSimulator.Endpoints;

/// <summary>Writes OpenAI-style error responses.</summary>
internal static class OpenAIErrorWriter
{
    public static async Task WriteAsync(
        HttpContext context, int statusCode, string type, string? code, string message, string? param = null)
    {
        context.Response.StatusCode = statusCode;
        context.Response.ContentType = "application/json";
        var body = new OpenAIErrorResponse
        {
            Error = new OpenAIError { Message = message, Type = type, Code = code, Param = param },
        };
        using (var json = new Utf8JsonWriter(context.Response.BodyWriter, JsonWire.WriterOptions))
        {
            JsonSerializer.Serialize(json, body, OpenAIJsonContext.Default.OpenAIErrorResponse);
        }

        await context.Response.BodyWriter.FlushAsync(context.RequestAborted);
    }

    public static Task InvalidRequestAsync(HttpContext context, string code, string message, string? param = null) =>
        WriteAsync(context, StatusCodes.Status400BadRequest, "invalid_request_error", code, message, param);
}

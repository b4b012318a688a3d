using System.Text.Encodings.Web;
using System.Text.Json;

namespace AgentOrchestrator.ModelSimulator.Protocol;

/// <summary>Writer settings for response bodies.</summary>
internal static class JsonWire
{
    /// <summary>
    /// Escapes only what JSON requires (<c>\"</c>, not <c>\u0022</c>), like OpenAI's own responses.
    /// Safe here: responses are JSON for API clients, never embedded in HTML.
    /// </summary>
    public static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
}

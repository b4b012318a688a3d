using System.Text.Json;
using System.Text.Json.Serialization;

namespace AgentOrchestrator.ModelSimulator.Protocol;

/// <summary>Source-generated serializers for the OpenAI wire format (snake_case, nulls omitted unless marked).</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ChatCompletionRequest))]
[JsonSerializable(typeof(ChatCompletion))]
[JsonSerializable(typeof(ChatCompletionChunk))]
[JsonSerializable(typeof(OpenAIErrorResponse))]
internal sealed partial class OpenAIJsonContext : JsonSerializerContext;

/// <summary>Serializer for the simulator's own stats endpoint (camelCase, like other ASP.NET Core JSON).</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(ModelSimulatorStats))]
internal sealed partial class SimulatorStatsJsonContext : JsonSerializerContext;

using System.Text.Json;
using System.Text.Json.Serialization;
using AgentOrchestrator.Contracts;

namespace AgentOrchestrator.Workers.Tools;

/// <summary>Source-generated JSON for the tool events' <see cref="RunEvent.Data"/> payloads.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(ToolCallData))]
[JsonSerializable(typeof(ToolResultData))]
[JsonSerializable(typeof(string))]
internal sealed partial class AgentToolJsonContext : JsonSerializerContext;

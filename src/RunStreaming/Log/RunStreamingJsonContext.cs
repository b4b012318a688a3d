using System.Text.Json;
using System.Text.Json.Serialization;
using AgentOrchestrator.Contracts;

namespace AgentOrchestrator.RunStreaming.Log;

/// <summary>The run-event path's wire and log formats: compact JSON, nulls left out, source-generated.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(RunEventsPublished))]
[JsonSerializable(typeof(StepCompaction))]
[JsonSerializable(typeof(JournalLine))]
internal sealed partial class RunStreamingJsonContext : JsonSerializerContext;

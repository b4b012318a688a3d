using System.Text.Json;
using System.Text.Json.Serialization;
using AgentOrchestrator.Contracts;

namespace AgentOrchestrator.Workers;

/// <summary>Source-generated JSON for the structured payloads (<see cref="RunEvent.Data"/>) the worker publishes.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(StepRetryingData))]
[JsonSerializable(typeof(StepWaitingData))]
internal sealed partial class WorkerJsonContext : JsonSerializerContext;

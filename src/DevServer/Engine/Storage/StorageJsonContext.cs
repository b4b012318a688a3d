using System.Text.Json.Serialization;

namespace AgentOrchestrator.DevServer.Engine.Storage;

/// <summary>Source-generated JSON for the stored run state (written on every change of a run).</summary>
[JsonSerializable(typeof(RunSnapshot))]
internal sealed partial class StorageJsonContext : JsonSerializerContext;

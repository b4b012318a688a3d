using System.Text.Json;
using System.Text.Json.Serialization;

namespace AgentOrchestrator.Tenancy;

/// <summary>
/// How overrides are stored (one JSON document per tenant in Redis, or one map of them in a file; unset fields left out). Reading is lenient about unknown
/// fields, so an override written by a newer version still applies its known fields.
/// </summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(TenantPolicy))]
[JsonSerializable(typeof(Dictionary<string, TenantPolicy>))]
public sealed partial class TenancyJsonContext : JsonSerializerContext;

using System.ComponentModel.DataAnnotations;
using AgentOrchestrator.Contracts;

namespace AgentOrchestrator.Gateway;

/// <summary>Public API limits and the flows callers may start (configuration section "Gateway").</summary>
public sealed class GatewayOptions
{
    public const string SectionName = "Gateway";

    /// <summary>
    /// Flow names a caller may start besides the shipped ones (<see cref="FlowCatalog"/>); each is a workflow type on
    /// <see cref="TaskQueues.Agents"/> taking a text input. Configuration adds them (Gateway:Flows:0, ...); hosts may also add in code.
    /// </summary>
    public ISet<string> Flows { get; } = new HashSet<string>(StringComparer.Ordinal);

    /// <summary>Longest accepted run input, in characters (UTF-16 code units).</summary>
    [Range(1, 10_000_000)]
    public int MaxInputLength { get; set; } = 32 * 1024;

    /// <summary>Longest accepted Idempotency-Key header value.</summary>
    [Range(1, 1024)]
    public int MaxIdempotencyKeyLength { get; set; } = 200;
}

/// <summary>Where the Temporal frontend is (configuration section "Temporal").</summary>
public sealed class GatewayTemporalOptions
{
    public const string SectionName = "Temporal";

    /// <summary>host:port of the Temporal frontend (or the embedded DevServer).</summary>
    [Required]
    public string Target { get; set; } = "127.0.0.1:7233";

    [Required]
    public string Namespace { get; set; } = "default";
}

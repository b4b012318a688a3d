using System.ComponentModel.DataAnnotations;

namespace AgentOrchestrator.ServiceDefaults.Telemetry;

/// <summary>The Prometheus metrics endpoint (configuration section "Telemetry:Metrics").</summary>
public sealed class MetricsOptions
{
    public const string SectionName = "Telemetry:Metrics";

    /// <summary>Collect metrics and serve them at <see cref="Path"/>; false leaves the meters unexported and the path unmapped.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Where Prometheus scrapes (text exposition format). Unauthenticated: expose it on an internal network only.</summary>
    [Required]
    [RegularExpression("^/[A-Za-z0-9/_.-]*$", ErrorMessage = "Telemetry:Metrics:Path must be an absolute path such as /metrics.")]
    public string Path { get; set; } = "/metrics";
}

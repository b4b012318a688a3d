using System.ComponentModel.DataAnnotations;

namespace AgentOrchestrator.ServiceDefaults.Telemetry;

/// <summary>Where finished spans go.</summary>
public enum TracingExporter
{
    /// <summary>Not exported (the process still propagates trace context it receives).</summary>
    None,

    /// <summary>Written to standard output; for development.</summary>
    Console,

    /// <summary>Sent to an OpenTelemetry collector over OTLP.</summary>
    Otlp,
}

/// <summary>OTLP transport: gRPC (collector port 4317) or HTTP with protobuf bodies (port 4318, path /v1/traces).</summary>
public enum TracingOtlpProtocol
{
    Grpc,
    HttpProtobuf,
}

/// <summary>Configuration section "Telemetry:Tracing".</summary>
public sealed class TracingOptions
{
    public const string SectionName = "Telemetry:Tracing";

    /// <summary>None, Console or Otlp. Unset: Console in the Development environment, None otherwise (logged at start).</summary>
    public TracingExporter? Exporter { get; set; }

    /// <summary>
    /// The collector. For HttpProtobuf a base address gets "/v1/traces" appended; a full URL ending in that path is
    /// used as is. Unset: the OpenTelemetry defaults (OTEL_EXPORTER_OTLP_ENDPOINT, else localhost 4317 / 4318).
    /// </summary>
    public Uri? OtlpEndpoint { get; set; }

    /// <summary>"grpc" (default) or "http/protobuf" (OpenTelemetry's names; "HttpProtobuf" is accepted too).</summary>
    public string OtlpProtocol { get; set; } = "grpc";

    /// <summary>Share of new traces recorded (0..1); a trace whose parent was sampled elsewhere is always recorded.</summary>
    [Range(0.0, 1.0)]
    public double SamplingRatio { get; set; } = 1.0;

    /// <summary>The protocol parsed from <see cref="OtlpProtocol"/>; null when it names none.</summary>
    public TracingOtlpProtocol? ParsedOtlpProtocol => OtlpProtocol?.Trim().ToUpperInvariant() switch
    {
        "GRPC" => TracingOtlpProtocol.Grpc,
        "HTTP/PROTOBUF" or "HTTPPROTOBUF" => TracingOtlpProtocol.HttpProtobuf,
        _ => null,
    };
}

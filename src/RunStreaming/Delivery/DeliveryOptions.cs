using System.ComponentModel.DataAnnotations;

namespace AgentOrchestrator.RunStreaming.Delivery;

/// <summary>Per-subscriber outbound queue limits and subscriber tracking (configuration section "Gateway:Delivery").</summary>
public sealed class DeliveryOptions : IValidatableObject
{
    public const string SectionName = "Gateway:Delivery";

    /// <summary>Queued events above which token deltas of one step attempt are coalesced into one event.</summary>
    [Range(1, 1_000_000)]
    public int SoftLimitEvents { get; set; } = 256;

    /// <summary>Queued bytes (estimated) above which token deltas are coalesced.</summary>
    [Range(1024, 1L << 32)]
    public long SoftLimitBytes { get; set; } = 256 * 1024;

    /// <summary>Queued events past which the subscription ends with slow_consumer.</summary>
    [Range(1, 1_000_000)]
    public int HardLimitEvents { get; set; } = 4096;

    /// <summary>Queued bytes (estimated) past which the subscription ends with slow_consumer: the memory bound per subscriber.</summary>
    [Range(1024, 1L << 32)]
    public long HardLimitBytes { get; set; } = 4 * 1024 * 1024;

    /// <summary>How often this gateway publishes its subscribers' positions to the other gateways.</summary>
    public TimeSpan DigestInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>A gateway whose digests stopped this long ago is taken as gone: its subscribers show as disconnected.</summary>
    public TimeSpan InstanceExpiry { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long a disconnected subscriber's positions are kept, so it can resume by subscription id.</summary>
    public TimeSpan SubscriberRetention { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Outbound bytes (estimated) per second this gateway sends, shared fairly by tenants (<see cref="DeliveryScheduler"/>). Unset: unlimited.</summary>
    [Range(1024, long.MaxValue)]
    public long? MaxBytesPerSecond { get; set; }

    /// <summary>Bytes that may go out at once after an idle spell when MaxBytesPerSecond is set. Unset: max(MaxBytesPerSecond / 20, 16 KB).</summary>
    [Range(1024, long.MaxValue)]
    public long? BurstBytes { get; set; }

    /// <summary>Sends (one event to one subscriber, until its transport took it) in flight at once, shared fairly by tenants. Unset: unlimited.</summary>
    [Range(1, 1_000_000)]
    public int? MaxConcurrentSends { get; set; }

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (SoftLimitEvents > HardLimitEvents || SoftLimitBytes > HardLimitBytes)
        {
            yield return new ValidationResult("Soft limits must not exceed hard limits.", [nameof(SoftLimitEvents), nameof(SoftLimitBytes)]);
        }
        if (DigestInterval <= TimeSpan.Zero || InstanceExpiry <= DigestInterval || SubscriberRetention <= TimeSpan.Zero)
        {
            yield return new ValidationResult("DigestInterval must be positive and shorter than InstanceExpiry; SubscriberRetention positive.",
                [nameof(DigestInterval), nameof(InstanceExpiry), nameof(SubscriberRetention)]);
        }
    }
}

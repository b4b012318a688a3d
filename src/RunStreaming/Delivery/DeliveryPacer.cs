using AgentOrchestrator.Contracts;
using AgentOrchestrator.RunStreaming.Telemetry;

namespace AgentOrchestrator.RunStreaming.Delivery;

/// <summary>Hands each subscription its <see cref="SubscriberSends"/>.</summary>
internal sealed class DeliveryPacer(DeliveryScheduler scheduler, TenantDeliveryMetrics metrics, RunStreamMetrics streamMetrics, RunStartClock starts,
    TimeProvider time)
{
    public SubscriberSends Open(string tenantId, string runId) => new(scheduler, metrics, streamMetrics, starts, time, tenantId, runId);
}

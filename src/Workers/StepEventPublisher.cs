using System.Text.Json;
using AgentOrchestrator.Contracts;
using MassTransit;

namespace AgentOrchestrator.Workers;

/// <summary>Publishes the events of one step attempt (ids per <see cref="RunEventIds.ForStep"/>), one bus message each.</summary>
internal sealed class StepEventPublisher(IPublishEndpoint publisher, TimeProvider time, string runId, string tenantId, string step, string agent, int attempt)
{
    public int Attempt => attempt;

    public Task PublishAsync(string type, long index, string? text, CancellationToken cancellationToken,
        JsonElement? data = null, long? emittedAtUs = null)
    {
        var runEvent = new RunEvent
        {
            Id = RunEventIds.ForStep(runId, step, attempt, type, index),
            RunId = runId,
            TenantId = tenantId,
            Type = type,
            Step = step,
            Agent = agent,
            Attempt = attempt,
            Index = index,
            Text = text,
            Ts = time.GetUtcNow(),
            ModelEmittedAtUs = emittedAtUs,
            Data = data,
        };
        return publisher.Publish(new RunEventsPublished { RunId = runId, TenantId = tenantId, Events = [runEvent] }, cancellationToken);
    }

    /// <summary>On attempts after the first: tells subscribers this attempt supersedes the earlier ones.</summary>
    public Task PublishRetryingIfRetryAsync(CancellationToken cancellationToken) =>
        attempt > 1
            ? PublishAsync(RunEventTypes.StepRetrying, 0, text: null, cancellationToken,
                JsonSerializer.SerializeToElement(new StepRetryingData(attempt - 1), WorkerJsonContext.Default.StepRetryingData))
            : Task.CompletedTask;
}

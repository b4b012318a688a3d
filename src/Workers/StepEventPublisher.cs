using System.Text.Json;
using AgentOrchestrator.Contracts;
using AgentOrchestrator.Workers.Telemetry;
using MassTransit;

namespace AgentOrchestrator.Workers;

/// <summary>Publishes the events of one step attempt (ids per <see cref="RunEventIds.ForStep"/>), one bus message each.</summary>
internal sealed class StepEventPublisher(IPublishEndpoint publisher, TimeProvider time, string runId, string tenantId, string step, string agent, int attempt,
    WorkerMetrics? metrics = null)
{
    public int Attempt => attempt;

    public Task PublishAsync(string type, long index, string? text, CancellationToken cancellationToken, JsonElement? data = null) =>
        publisher.Publish(new RunEventsPublished { RunId = runId, TenantId = tenantId, Events = [NewEvent(type, index, text, data, emittedAtUs: null)] },
            cancellationToken);

    /// <summary>
    /// One token delta. Its message carries the path's stamps so far (worker.received, publish.started) for the gateway's
    /// hop metrics; the worker's own hops are recorded once the publish returned (<see cref="TokenPath"/>).
    /// </summary>
    public async Task PublishTokenAsync(long index, string text, long? emittedAtUs, long receivedAtUs, CancellationToken cancellationToken)
    {
        var received = new PathStamp(TokenPath.WorkerReceived, receivedAtUs);
        var started = new PathStamp(TokenPath.PublishStarted, TokenPath.NowUs(time));
        await publisher.Publish(new RunEventsPublished
        {
            RunId = runId,
            TenantId = tenantId,
            Events = [NewEvent(RunEventTypes.Token, index, text, data: null, emittedAtUs)],
            Stamps = receivedAtUs == 0 ? [started] : [received, started],
        }, cancellationToken);
        metrics?.TokenPathTaken([
            new PathStamp(TokenPath.ModelEmitted, emittedAtUs ?? 0), received, started, new PathStamp(TokenPath.PublishConfirmed, TokenPath.NowUs(time))]);
    }

    /// <summary>On attempts after the first: tells subscribers this attempt supersedes the earlier ones.</summary>
    public Task PublishRetryingIfRetryAsync(CancellationToken cancellationToken) =>
        attempt > 1
            ? PublishAsync(RunEventTypes.StepRetrying, 0, text: null, cancellationToken,
                JsonSerializer.SerializeToElement(new StepRetryingData(attempt - 1), WorkerJsonContext.Default.StepRetryingData))
            : Task.CompletedTask;

    private RunEvent NewEvent(string type, long index, string? text, JsonElement? data, long? emittedAtUs) => new()
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
}

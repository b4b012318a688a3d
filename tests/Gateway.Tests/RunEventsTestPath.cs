using AgentOrchestrator.Contracts;
using AgentOrchestrator.Messaging;
using AgentOrchestrator.RunStreaming.Live;
using AgentOrchestrator.RunStreaming.Log;
using AgentOrchestrator.RunStreaming.Ordering;
using AgentOrchestrator.RunStreaming.Publishing;
using AgentOrchestrator.RunStreaming.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace AgentOrchestrator.Gateway.Tests;

/// <summary>Tests publish run events as a worker does (into the run's log, then live) and peek at a gateway's tail.</summary>
internal static class RunEventsTestPath
{
    /// <summary>A publisher on a gateway's own in-process log and live bus (the embedded host's path).</summary>
    public static RunEventPublisher RunEventPublisher(this IServiceProvider services) =>
        services.GetService<RunEventPublisher>()
        ?? new RunEventPublisher(services.GetRequiredService<IRunEventLog>(), (IRunEventLivePublisher)services.GetRequiredService<IRunEventLiveSource>());

    public static async Task PublishRunEventsAsync(this IServiceProvider services, RunEventsPublished message) =>
        await services.RunEventPublisher().PublishAsync(message, default);

    /// <summary>A publisher over RabbitMQ that shares a gateway's log (Redis): a worker in another process.</summary>
    public static async Task<RabbitMqPublisher> RabbitMqPublisherAsync(this IServiceProvider services)
    {
        var live = new RabbitMqRunEventLivePublisher(services.GetRequiredService<IOptions<MessageBusOptions>>(), services.GetRequiredService<IOptions<RunEventLiveOptions>>(),
            services.GetRequiredService<RunEventPathMetrics>(), NullLogger<RabbitMqRunEventLivePublisher>.Instance);
        await live.StartAsync(default);
        return new RabbitMqPublisher(new RunEventPublisher(services.GetRequiredService<IRunEventLog>(), live), live);
    }

    /// <summary>Whether the gateway's tail of the run holds <paramref name="eventId"/> (as a cursor it would resume after).</summary>
    public static async Task<bool> HoldsAsync(this IServiceProvider services, string tenantId, string runId, string eventId)
    {
        using var peek = await services.GetRequiredService<IRunEventFeed>().SubscribeAsync(tenantId, runId, eventId, null, default);
        return peek.CursorKnown;
    }

    /// <summary>How many events the gateway's tail of the run holds now (loading the run if it does not watch it yet).</summary>
    public static async Task<int> RetainedCountAsync(this IServiceProvider services, string tenantId, string runId)
    {
        using var peek = await services.GetRequiredService<IRunEventFeed>().SubscribeAsync(tenantId, runId, null, null, default);
        return peek.Replay.Count;
    }

    public sealed class RabbitMqPublisher(RunEventPublisher publisher, RabbitMqRunEventLivePublisher live) : IAsyncDisposable
    {
        public Task PublishAsync(RunEventsPublished message) => publisher.PublishAsync(message, default).AsTask();

        public ValueTask DisposeAsync() => live.DisposeAsync();
    }
}

using AgentOrchestrator.Contracts;
using AgentOrchestrator.RunStreaming;
using AgentOrchestrator.RunStreaming.Log;
using AgentOrchestrator.RunStreaming.Publishing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AgentOrchestrator.Bench;

/// <summary>
/// Token load without models or workers: token deltas of existing runs published straight into the run-event path with
/// the product's publishing code (AddRunEventPublishing: appended to the run's log, then sent live, one producer per run
/// as a worker's step attempt is), so what a measurement loads is the gateways. One message per delta, one step
/// ("load") per run, indices continuing across calls; each delta's ModelEmittedAtUs is its publish time on the bench's clock.
/// </summary>
internal sealed class SyntheticTokenLoad : IAsyncDisposable
{
    private const string Step = "load";
    private const string Text = " token";
    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(5);
    private readonly IHost _host;
    private readonly RunEventPublisher _publisher;
    private readonly Dictionary<string, (RunEventProducer Producer, long NextIndex, long Offset)> _runs = [];

    private SyntheticTokenLoad(IHost host)
    {
        _host = host;
        _publisher = host.Services.GetRequiredService<RunEventPublisher>();
    }

    /// <param name="settings">The run-event path's settings as the deployment's services get them ("Bus:Transport",
    /// "Bus:RabbitMqUri", "RunEvents:Log:Store", "RunEvents:Log:Redis", "RunEvents:Live:Exchange").</param>
    public static async Task<SyntheticTokenLoad> StartAsync(IReadOnlyDictionary<string, string?> settings)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddRunEventPublishing(builder.Configuration);
        var host = builder.Build();
        await host.StartAsync();
        return new SyntheticTokenLoad(host);
    }

    /// <summary>
    /// Publishes <paramref name="tokensPerSecond"/> deltas in total, spread evenly over <paramref name="runs"/>, for
    /// <paramref name="duration"/>; returns how many were published (fewer than asked when publishing fell behind).
    /// </summary>
    public async Task<long> RunAsync(IReadOnlyList<(string TenantId, string RunId)> runs, double tokensPerSecond, TimeSpan duration)
    {
        var started = Report.NowUnixMicroseconds();
        var published = 0L;
        using var timer = new PeriodicTimer(Tick);
        while (Report.NowUnixMicroseconds() - started < duration.TotalMicroseconds)
        {
            // Catch up to what is due by now, so timer jitter moves deltas between ticks instead of losing them.
            var due = (long)((Report.NowUnixMicroseconds() - started) / 1_000_000.0 * tokensPerSecond) - published;
            var sends = new List<Task>((int)Math.Max(0, due));
            for (var i = 0; i < due; i++)
            {
                var (tenant, run) = runs[(int)((published + i) % runs.Count)];
                sends.Add(PublishAsync(tenant, run));
            }
            await Task.WhenAll(sends);
            published += Math.Max(0, due);
            await timer.WaitForNextTickAsync();
        }
        return published;
    }

    private Task<RunLogPosition> PublishAsync(string tenantId, string runId)
    {
        var (producer, index, offset) = _runs.TryGetValue(runId, out var run) ? run : (_publisher.CreateProducer(), 0, 0);
        _runs[runId] = (producer, index + 1, offset + Text.Length);
        var now = Report.NowUnixMicroseconds();
        return producer.PublishAsync(new RunEventsPublished
        {
            RunId = runId,
            TenantId = tenantId,
            Events =
            [
                new RunEvent
                {
                    Id = RunEventIds.ForStep(runId, Step, 1, RunEventTypes.Token, index),
                    RunId = runId,
                    TenantId = tenantId,
                    Type = RunEventTypes.Token,
                    Step = Step,
                    Agent = "bench",
                    Attempt = 1,
                    Index = index,
                    Text = Text,
                    Offset = offset,
                    Ts = DateTimeOffset.UtcNow,
                    ModelEmittedAtUs = now,
                },
            ],
            Stamps = [new PathStamp(TokenPath.PublishStarted, now)],
        }, compaction: null, CancellationToken.None);
    }

    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync();
        _host.Dispose();
    }
}

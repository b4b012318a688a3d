using System.Diagnostics.Metrics;
using AgentOrchestrator.Contracts;
using AgentOrchestrator.TestSupport;
using AgentOrchestrator.Workers.Telemetry;
using Microsoft.Extensions.DependencyInjection;

namespace AgentOrchestrator.Workers.Tests.Telemetry;

public sealed class WorkerMetricsTests(InstantModelWorkerFixture fixture) : IClassFixture<InstantModelWorkerFixture>
{
    [Fact]
    public async Task TokenPathTaken_WriterReviewerRun_StampsEachTokenMessageAndRecordsItsHops()
    {
        using var hops = new InstrumentRecorder<double>(fixture.Services.GetRequiredService<IMeterFactory>(), "worker.token.hop", WorkerMetrics.MeterName);
        var handle = await fixture.StartRunAsync("hops", "Stamp every hop.");
        await handle.GetResultAsync();
        var runId = handle.Id[(handle.Id.LastIndexOf('/') + 1)..];
        await Eventually.TrueAsync(() => fixture.Events.Has(runId, RunEventTypes.RunCompleted), because: "run.completed published");

        var messages = fixture.Events.MessagesOf(runId);
        var tokens = messages.Where(m => m.Events.Any(e => e.Type == RunEventTypes.Token)).ToList();
        Assert.NotEmpty(tokens);
        Assert.All(messages.Except(tokens), m => Assert.Null(m.Stamps));
        foreach (var message in tokens)
        {
            var stamps = message.Stamps ?? throw new InvalidOperationException("a token message without stamps");
            Assert.Equal([TokenPath.WorkerReceived, TokenPath.PublishStarted], stamps.Select(s => s.Point));
            // One machine, one wall clock: the model emitted before the worker read it, which was before it published.
            Assert.InRange(message.Events[0].ModelEmittedAtUs!.Value, 1, stamps[0].AtUs);
            Assert.True(stamps[0].AtUs <= stamps[1].AtUs);
        }

        // Recorded once the publish returned, which may be after the consumer saw the message.
        await Eventually.TrueAsync(() => hops.Measurements.Count(m => m.Tag("hop") == TokenPath.PublishConfirmed) == tokens.Count,
            because: "one publish.confirmed hop per token message");
        Assert.Equal(tokens.Count, hops.Measurements.Count(m => m.Tag("hop") == TokenPath.WorkerReceived));
        Assert.All(hops.Measurements, m => Assert.True(m.Value >= 0 && double.IsFinite(m.Value)));
        // The publish.started hop is the message's own worker.received -> publish.started, message by message.
        Assert.Equal(
            tokens.Select(m => TokenPath.HopMs(m.Stamps![0].AtUs, m.Stamps[1].AtUs)).Order(),
            hops.Measurements.Where(m => m.Tag("hop") == TokenPath.PublishStarted).Select(m => m.Value).Order());
        Assert.Equal(
            tokens.Select(m => TokenPath.HopMs(m.Events[0].ModelEmittedAtUs!.Value, m.Stamps![0].AtUs)).Order(),
            hops.Measurements.Where(m => m.Tag("hop") == TokenPath.WorkerReceived).Select(m => m.Value).Order());
    }
}

using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using AgentOrchestrator.Contracts;
using AgentOrchestrator.TestSupport;
using AgentOrchestrator.Workers.Telemetry;
using AgentOrchestrator.Workflows;
using Temporalio.Client;
using Temporalio.Exceptions;
using Temporalio.Worker;

namespace AgentOrchestrator.Workers.Tests;

public sealed class RunCancellationTests(SlowModelWorkerFixture fixture) : IClassFixture<SlowModelWorkerFixture>
{
    [Fact]
    public async Task CancelAsync_WhileWriterStreams_StopsModelStreamAndPublishesRunCanceled()
    {
        string tenant = $"acme-cancel-{Guid.NewGuid():N}";
        using ModelCallOutcomes outcomes = new(tenant);
        long canceledBefore = (await fixture.SimulatorStatsAsync()).CanceledStreams;
        WorkflowHandle<WriterReviewerWorkflow, string> handle = await fixture.StartRunAsync(tenant, "Cancel me while I write.");
        string runId = handle.Id[(handle.Id.LastIndexOf('/') + 1)..];
        await Eventually.TrueAsync(() => fixture.Events.EventsOf(runId).Any(e => e.Type == RunEventTypes.Token),
            because: "the writer streams its first tokens");

        await handle.CancelAsync();

        var failure = await Assert.ThrowsAsync<WorkflowFailedException>(() => handle.GetResultAsync());
        Assert.IsType<CanceledFailureException>(failure.InnerException);
        await Eventually.TrueAsync(async () => (await fixture.SimulatorStatsAsync()).CanceledStreams > canceledBefore,
            because: "the simulator saw the model stream stop");
        await Eventually.TrueAsync(() => fixture.Events.Has(runId, RunEventTypes.RunCanceled), because: "run.canceled published");

        IReadOnlyList<RunEvent> events = fixture.Events.EventsOf(runId);
        Assert.DoesNotContain(events, e => e.Type is RunEventTypes.StepCompleted or RunEventTypes.RunCompleted or RunEventTypes.RunFailed);
        Assert.DoesNotContain(events, e => e.Step == WriterReviewerWorkflow.ReviewerStep);
        Assert.Equal(RunEventIds.ForRun(runId, RunEventTypes.RunCanceled), events.Single(e => e.Type == RunEventTypes.RunCanceled).Id);
        // The cut model call is measured as canceled, not as a model error.
        await Eventually.TrueAsync(() => !outcomes.Recorded.IsEmpty, because: "the model call's duration is recorded when it ends");
        Assert.Equal(["canceled"], outcomes.Recorded.ToArray());

        var replayer = new WorkflowReplayer(new WorkflowReplayerOptions().AddWorkflow<WriterReviewerWorkflow>());
        WorkflowReplayResult replay = await replayer.ReplayWorkflowAsync(await handle.FetchHistoryAsync(), throwOnReplayFailure: false);
        Assert.Null(replay.ReplayFailure);
    }
}

/// <summary>The outcome tag of every worker.model.call.duration measurement for one tenant, read as an exporter would.</summary>
internal sealed class ModelCallOutcomes : IDisposable
{
    private readonly MeterListener _listener = new();

    public ModelCallOutcomes(string tenant)
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == WorkerMetrics.MeterName && instrument.Name == "worker.model.call.duration")
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<double>((_, _, tags, _) =>
        {
            string? measuredTenant = null;
            string? outcome = null;
            foreach (KeyValuePair<string, object?> tag in tags)
            {
                if (tag.Key == "tenant")
                {
                    measuredTenant = tag.Value as string;
                }
                else if (tag.Key == "outcome")
                {
                    outcome = tag.Value as string;
                }
            }
            if (measuredTenant == tenant && outcome is not null)
            {
                Recorded.Enqueue(outcome);
            }
        });
        _listener.Start();
    }

    public ConcurrentQueue<string> Recorded { get; } = new();

    public void Dispose() => _listener.Dispose();
}

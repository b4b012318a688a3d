using System.Diagnostics;
using AgentOrchestrator.Contracts;
using AgentOrchestrator.Tenancy.Budgets;
using AgentOrchestrator.TestSupport;
using AgentOrchestrator.Workflows;
using Temporalio.Api.Enums.V1;
using Temporalio.Api.Workflow.V1;
using Temporalio.Api.WorkflowService.V1;
using Temporalio.Client;
using Xunit.Abstractions;

namespace AgentOrchestrator.Workers.Tests.Budgets;

/// <summary>
/// The model answers 429 with Retry-After for a while: the call waits in Temporal (a pending activity between
/// attempts, on no worker), asks the model no more often than Retry-After allows, holds no memory, and the run finishes
/// once the model recovers.
/// </summary>
[Collection(RunsAlone.Name)]
public sealed class RateLimitTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int RetryAfterSeconds = 2;
    private readonly FaultSwitch _fault = new();
    private BudgetWorkers _workers = null!;

    public async Task InitializeAsync() =>
        _workers = await BudgetWorkers.StartAsync(1, new Dictionary<string, string?>(), redis: false, () => new FaultHeaderHandler(_fault));

    [Fact]
    public async Task RunAsync_ModelAnswers429ForAWhile_WaitsInTemporalWithoutBusyLoopAndFinishesAfterRecovery()
    {
        _fault.Spec = $"429:retry={RetryAfterSeconds}";
        WorkflowHandle<WriterReviewerWorkflow, string> handle = await _workers.StartRunAsync("acme", "Write while the model is busy.");
        string runId = BudgetWorkers.RunIdOf(handle);
        await Eventually.TrueAsync(() => _workers.Events.EventsOf(runId).Any(e => e.Type == RunEventTypes.StepWaiting), TimeSpan.FromSeconds(60), "the first 429 makes the step wait");

        long requestsBefore = (await _workers.SimulatorStatsAsync()).Requests;
        long heapBefore = GC.GetTotalMemory(forceFullCollection: true);
        var window = Stopwatch.StartNew();
        PendingActivityInfo? waiting = null;
        await Eventually.TrueAsync(async () =>
        {
            DescribeWorkflowExecutionResponse description = await _workers.Client.WorkflowService.DescribeWorkflowExecutionAsync(
                new DescribeWorkflowExecutionRequest { Namespace = _workers.Client.Options.Namespace, Execution = new Temporalio.Api.Common.V1.WorkflowExecution { WorkflowId = handle.Id } });
            waiting = description.PendingActivities.SingleOrDefault();
            return waiting is { Attempt: >= 4, State: PendingActivityState.Scheduled };
        }, TimeSpan.FromSeconds(120), "the step is between attempts, held by Temporal, at its fourth attempt or later");
        window.Stop();
        long requests = (await _workers.SimulatorStatsAsync()).Requests - requestsBefore;
        long heapGrowth = GC.GetTotalMemory(forceFullCollection: true) - heapBefore;
        output.WriteLine($"{requests} requests in {window.Elapsed.TotalSeconds:F1} s while rate limited; heap growth {heapGrowth / 1024} KB; pending attempt {waiting!.Attempt}");

        // No busy loop: at most one request per Retry-After (plus the one in flight when the window opened), and no
        // retries hidden inside the OpenAI client (each attempt is one request).
        Assert.InRange(requests, 2, (long)(window.Elapsed.TotalSeconds / RetryAfterSeconds) + 1);
        Assert.Equal(AgentActivityNames.RunAgentStep, waiting.ActivityType.Name);
        Assert.True(heapGrowth < 32 * 1024 * 1024, $"heap grew {heapGrowth} bytes while waiting");

        _fault.Spec = null;
        Assert.False(string.IsNullOrEmpty(await handle.GetResultAsync()));

        List<RunEvent> events = _workers.Events.EventsOf(runId).ToList();
        List<RunEvent> waits = events.Where(e => e.Type == RunEventTypes.StepWaiting).ToList();
        Assert.True(waits.Count >= 3);
        Assert.All(waits, w =>
        {
            Assert.Equal(WriterReviewerWorkflow.WriterStep, w.Step);
            Assert.Equal(BudgetReasons.ModelRateLimited, w.Data!.Value.GetProperty("reason").GetString());
            // Retry-After is honoured: never sooner.
            Assert.True(w.Data.Value.GetProperty("retryAfterMs").GetInt64() >= RetryAfterSeconds * 1000);
        });
        Assert.Equal(waits.Count, waits.Select(w => w.Attempt).Distinct().Count());
        RunEvent completed = events.Single(e => e.Type == RunEventTypes.StepCompleted && e.Step == WriterReviewerWorkflow.WriterStep);
        Assert.Equal(waits.Max(w => w.Attempt) + 1, completed.Attempt);
    }

    public async Task DisposeAsync() => await _workers.DisposeAsync();

    private sealed class FaultSwitch
    {
        public volatile string? Spec;
    }

    /// <summary>Adds the simulator's fault header to every model request while the switch holds a spec.</summary>
    private sealed class FaultHeaderHandler(FaultSwitch fault) : DelegatingHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (fault.Spec is { } spec)
            {
                request.Headers.Add("X-Simulator-Fault", spec);
            }
            return base.SendAsync(request, cancellationToken);
        }
    }
}

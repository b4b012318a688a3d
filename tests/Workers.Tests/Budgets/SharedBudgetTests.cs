using System.Text.Json;
using AgentOrchestrator.Contracts;
using AgentOrchestrator.Tenancy.Budgets;
using AgentOrchestrator.Workflows;
using Temporalio.Api.Enums.V1;
using Temporalio.Api.History.V1;
using Temporalio.Client;
using Temporalio.Common;
using Xunit.Abstractions;

namespace AgentOrchestrator.Workers.Tests.Budgets;

/// <summary>
/// One tenant's token budget held by two workers through Redis: many concurrent runs are slowed to the budget
/// (step.waiting), all finish, and what the model served them stays within capacity + refill; another tenant without
/// limits runs beside it untouched.
/// </summary>
public sealed class SharedBudgetTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const long TokensPerMinute = 1200;
    private const int MeteredRuns = 6;
    private const int FreeRuns = 3;

    // What the chars/4 estimate and the 80-token allowance can miss per call (the simulator counts a few tokens per
    // message on top of chars/4; answers are at most 80 words), times the calls: settling corrects it after the fact.
    private const long Tolerance = 2 * MeteredRuns * 15;

    private BudgetWorkers _workers = null!;

    public async Task InitializeAsync() => _workers = await BudgetWorkers.StartAsync(2, new Dictionary<string, string?>
    {
        ["Tenancy:Tenants:metered:ModelTokensPerMinute"] = TokensPerMinute.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Tenancy:Budgets:CompletionAllowance"] = "80",
    }, redis: true);

    [Fact]
    public async Task RunAsync_TokenBudgetAcrossTwoWorkers_HoldsWithinCapacityPlusRefillAndEveryRunFinishes()
    {
        DateTimeOffset started = DateTimeOffset.UtcNow;
        var metered = new List<WorkflowHandle<WriterReviewerWorkflow, string>>();
        var free = new List<WorkflowHandle<WriterReviewerWorkflow, string>>();
        for (int i = 0; i < MeteredRuns; i++)
        {
            metered.Add(await _workers.StartRunAsync("metered", $"Metered topic number {i}: write about rivers and budgets."));
        }
        for (int i = 0; i < FreeRuns; i++)
        {
            free.Add(await _workers.StartRunAsync("free", $"Free topic number {i}: write about mountains."));
        }

        string[] freeResults = await Task.WhenAll(free.Select(h => h.GetResultAsync()));
        string[] meteredResults = await Task.WhenAll(metered.Select(h => h.GetResultAsync()));
        TimeSpan elapsed = DateTimeOffset.UtcNow - started;

        Assert.All(meteredResults.Concat(freeResults), r => Assert.False(string.IsNullOrEmpty(r)));
        (long served, HashSet<string> workers, DateTime lastMetered) = await ServedAsync(metered);
        (_, _, DateTime lastFree) = await ServedAsync(free);
        long bound = TokensPerMinute + (long)(TokensPerMinute / 60.0 * elapsed.TotalSeconds) + Tolerance;
        output.WriteLine($"metered: {served} tokens served in {elapsed.TotalSeconds:F1} s; bound {bound}; workers {string.Join(", ", workers)}");

        Assert.True(served <= bound, $"{served} tokens served in {elapsed.TotalSeconds:F1} s, above capacity + refill + tolerance = {bound}");
        // Both workers drew from the one budget.
        Assert.Equal([BudgetWorkers.WorkerIdentity(1), BudgetWorkers.WorkerIdentity(2)], workers.Order(StringComparer.Ordinal));
        List<RunEvent> waits = metered.SelectMany(h => _workers.Events.EventsOf(BudgetWorkers.RunIdOf(h))).Where(e => e.Type == RunEventTypes.StepWaiting).ToList();
        Assert.NotEmpty(waits);
        Assert.All(waits, w =>
        {
            Assert.Equal(BudgetReasons.TokenBudget, w.Data!.Value.GetProperty("reason").GetString());
            Assert.True(w.Data.Value.GetProperty("retryAfterMs").GetInt64() > 0);
        });
        // The tenant without limits never waited, and was done before the metered tenant.
        Assert.DoesNotContain(free.SelectMany(h => _workers.Events.EventsOf(BudgetWorkers.RunIdOf(h))), e => e.Type == RunEventTypes.StepWaiting);
        Assert.True(lastFree < lastMetered, "the unlimited tenant finished while the metered one was still held back");
        // A waited step's next attempt supersedes the waiting one and streams the text the workflow got.
        RunEvent waited = waits[0];
        List<RunEvent> stepEvents = _workers.Events.EventsOf(waited.RunId).Where(e => e.Step == waited.Step).ToList();
        Assert.Contains(stepEvents, e => e.Type == RunEventTypes.StepRetrying && e.Attempt == waited.Attempt + 1);
        Assert.Contains(stepEvents, e => e.Type == RunEventTypes.StepCompleted && e.Attempt > waited.Attempt);
    }

    /// <summary>Tokens the model served the runs (the usage each completed model call returned to history), who ran them, when the last finished.</summary>
    private static async Task<(long Tokens, HashSet<string> Workers, DateTime LastCompleted)> ServedAsync(IEnumerable<WorkflowHandle<WriterReviewerWorkflow, string>> runs)
    {
        long tokens = 0;
        var workers = new HashSet<string>(StringComparer.Ordinal);
        DateTime last = DateTime.MinValue;
        foreach (WorkflowHandle<WriterReviewerWorkflow, string> run in runs)
        {
            WorkflowHistory history = await run.FetchHistoryAsync();
            foreach (HistoryEvent e in history.Events)
            {
                if (e.EventType == EventType.ActivityTaskStarted)
                {
                    workers.Add(e.ActivityTaskStartedEventAttributes.Identity);
                }
                else if (e.EventType == EventType.ActivityTaskCompleted && e.ActivityTaskCompletedEventAttributes.Result?.Payloads_.Count > 0)
                {
                    using JsonDocument result = JsonDocument.Parse(e.ActivityTaskCompletedEventAttributes.Result.Payloads_[0].Data.Memory);
                    if (result.RootElement.ValueKind == JsonValueKind.Object && result.RootElement.TryGetProperty("PromptTokens", out JsonElement prompt))
                    {
                        tokens += prompt.GetInt64() + result.RootElement.GetProperty("CompletionTokens").GetInt64();
                    }
                }
                else if (e.EventType == EventType.WorkflowExecutionCompleted)
                {
                    last = e.EventTime.ToDateTime();
                }
            }
        }
        return (tokens, workers, last);
    }

    public async Task DisposeAsync() => await _workers.DisposeAsync();
}

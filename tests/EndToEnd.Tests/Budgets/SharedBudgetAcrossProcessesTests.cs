using System.Diagnostics;
using System.Globalization;
using System.Net;
using AgentOrchestrator.Contracts;
using AgentOrchestrator.TestSupport;
using Xunit.Abstractions;

namespace AgentOrchestrator.EndToEnd.Tests.Budgets;

/// <summary>
/// Model budgets held by two worker processes through Redis (Tenancy:Store=Redis), driven through the gateway: one
/// tenant's token budget holds across both processes within a stated tolerance, and a policy changed through the admin
/// API reaches both workers at runtime, without a restart.
/// </summary>
public sealed class SharedBudgetAcrossProcessesTests(BudgetDeployment fixture, ITestOutputHelper output) : IClassFixture<BudgetDeployment>
{
    private const int MeteredRuns = 6;
    private const int FreeRuns = 3;

    // What the chars/4 estimate and the 80-token completion allowance can miss per model call (the simulator counts a
    // few tokens per message on top of chars/4): two model calls per writer-reviewer run, 15 tokens each. Settling
    // corrects the bucket after the fact, so the overshoot is bounded by the calls in flight, not by the run length.
    private const long Tolerance = 2 * MeteredRuns * 15;

    private static readonly TimeSpan RunTimeout = TimeSpan.FromMinutes(6);
    private static readonly TimeSpan Propagation = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task ConcurrentRuns_TokenBudgetAcrossTwoWorkerProcesses_HoldsWithinCapacityPlusRefill_AndEveryRunFinishes()
    {
        await using var metered = await RunClient.ConnectAsync(fixture.Deployment.Gateway, BudgetDeployment.Metered);
        await using var free = await RunClient.ConnectAsync(fixture.Deployment.Gateway, BudgetDeployment.Free);
        var started = Stopwatch.StartNew();
        var meteredTask = Task.WhenAll(Enumerable.Range(0, MeteredRuns).Select(i =>
            RunAsync(metered, $"Metered topic number {i}: write about rivers and budgets.")));
        var freeTask = Task.WhenAll(Enumerable.Range(0, FreeRuns).Select(i =>
            RunAsync(free, $"Free topic number {i}: write about mountains.")));
        var freeRuns = await freeTask;
        var freeElapsed = started.Elapsed;
        var meteredRuns = await meteredTask;
        var meteredElapsed = started.Elapsed;

        var scrapes = await Task.WhenAll(fixture.Deployment.Workers.Select(w => PrometheusScrape.ReadAsync(w)));
        var servedPerWorker = scrapes.Select(s => (long)s.Sum("worker_model_tokens_total", ("tenant", BudgetDeployment.Metered))).ToList();
        var chargedPerWorker = scrapes.Select(s => (long)s.Sum("tenancy_budget_tokens_total", ("tenant", BudgetDeployment.Metered))).ToList();
        var waitsPerWorker = scrapes.Select(s => (long)s.Sum("tenancy_budget_waits_total", ("tenant", BudgetDeployment.Metered))).ToList();
        var served = servedPerWorker.Sum();
        var bound = BudgetDeployment.TokensPerMinute + (long)(BudgetDeployment.TokensPerMinute / 60.0 * meteredElapsed.TotalSeconds) + Tolerance;
        output.WriteLine($"metered tenant ({BudgetDeployment.TokensPerMinute} tokens/min, {MeteredRuns} runs over 2 worker processes): " +
            $"{served} tokens served in {meteredElapsed.TotalSeconds:F1} s (per worker {string.Join(" + ", servedPerWorker)}; " +
            $"charged to the budget {string.Join(" + ", chargedPerWorker)}); bound capacity + refill + tolerance = {bound}; " +
            $"budget waits per worker {string.Join(" + ", waitsPerWorker)}; the unlimited tenant's {FreeRuns} runs done after {freeElapsed.TotalSeconds:F1} s");
        var context = string.Join("\n\n", scrapes.Select(s => s.Text));

        Assert.All(meteredRuns.Concat(freeRuns), run => Assert.Equal(RunEventTypes.RunCompleted, run[^1].Type));
        // Both processes served the tenant's model calls, so the bound below is a shared one, not each process's own.
        Assert.All(servedPerWorker, tokens => Assert.True(tokens > 0, $"a worker served no metered tokens: {string.Join(", ", servedPerWorker)}\n{context}"));
        Assert.True(served <= bound, $"{served} tokens served in {meteredElapsed.TotalSeconds:F1} s, above capacity + refill + tolerance = {bound}");
        var waits = meteredRuns.SelectMany(r => r).Where(e => e.Type == RunEventTypes.StepWaiting).ToList();
        Assert.NotEmpty(waits);
        Assert.All(waits, w =>
        {
            Assert.Equal("token_budget", w.Data!.Value.GetProperty("reason").GetString());
            Assert.True(w.Data.Value.GetProperty("retryAfterMs").GetInt64() > 0);
        });
        // A waited step's next attempt supersedes the waiting one and completes.
        var waited = waits[0];
        var stepEvents = meteredRuns.Single(r => r[0].RunId == waited.RunId).Where(e => e.Step == waited.Step).ToList();
        Assert.Contains(stepEvents, e => e.Type == RunEventTypes.StepRetrying && e.Attempt == waited.Attempt + 1);
        Assert.Contains(stepEvents, e => e.Type == RunEventTypes.StepCompleted && e.Attempt > waited.Attempt);
        // The tenant without limits never waited, on either process.
        Assert.DoesNotContain(freeRuns.SelectMany(r => r), e => e.Type == RunEventTypes.StepWaiting);
        Assert.All(scrapes, s => Assert.Equal(0, s.Sum("tenancy_budget_waits_total", ("tenant", BudgetDeployment.Free))));
    }

    [Fact]
    public async Task PolicyChangedThroughTheAdminApi_ReachesBothWorkerProcessesWithinSeconds_WithoutRestart()
    {
        const string tenant = BudgetDeployment.Switched;
        using var admin = await TenantAdminClient.WithDevTokenAsync(fixture.Deployment.Gateway);
        await using var client = await RunClient.ConnectAsync(fixture.Deployment.Gateway, tenant);
        var before = await RunAsync(client, "Before the change: write about lakes.");
        Assert.Equal(RunEventTypes.RunCompleted, before[^1].Type);

        // A budget far below one call's reservation, refused instead of waited for.
        using var put = await admin.PutPolicyAsync(tenant, new { modelTokensPerMinute = 1, overBudget = "Fail" });
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        var changed = Stopwatch.StartNew();
        List<RunEvent>? refused = null;
        await Eventually.TrueAsync(async () =>
        {
            var run = await RunAsync(client, "After the change: write about seas.");
            refused ??= run[^1].Type == RunEventTypes.RunFailed ? run : null;
            return refused is not null;
        }, Propagation, "a run of the tenant fails on the new budget");
        var firstRefusal = changed.Elapsed;
        // Each run lands on whichever worker polls first: keep starting runs until both processes have refused one.
        await Eventually.TrueAsync(async () =>
        {
            if (await RefusalsPerWorkerAsync(tenant) is var refusals && refusals.All(r => r > 0))
            {
                return true;
            }
            Assert.Equal(RunEventTypes.RunFailed, (await RunAsync(client, "Still over budget: write about ponds."))[^1].Type);
            return false;
        }, Propagation, "both worker processes refuse the tenant's model calls");
        var bothRefused = changed.Elapsed;

        using var deleted = await admin.DeletePolicyAsync(tenant);
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        var lifted = Stopwatch.StartNew();
        await Eventually.TrueAsync(async () => (await RunAsync(client, "Limit lifted: write about rain."))[^1].Type == RunEventTypes.RunCompleted,
            Propagation, "the tenant's runs complete again once the override is deleted");
        output.WriteLine($"policy change (1 token/min, Fail): first run refused {firstRefusal.TotalSeconds:F1} s after the PUT answered, " +
            $"both worker processes refusing after {bothRefused.TotalSeconds:F1} s (refusals per worker {string.Join(" + ", await RefusalsPerWorkerAsync(tenant))}); " +
            $"override deleted: a run completed {lifted.Elapsed.TotalSeconds:F1} s later");

        Assert.StartsWith("[quota.model_tokens]", refused![^1].Text, StringComparison.Ordinal);
        Assert.DoesNotContain(refused, e => e.Type == RunEventTypes.StepWaiting);
    }

    private async Task<long[]> RefusalsPerWorkerAsync(string tenant)
    {
        var scrapes = await Task.WhenAll(fixture.Deployment.Workers.Select(w => PrometheusScrape.ReadAsync(w)));
        return scrapes.Select(s => (long)s.Sum("tenancy_budget_rejections_total", ("tenant", tenant))).ToArray();
    }

    private static async Task<List<RunEvent>> RunAsync(RunClient client, string input)
    {
        var runId = await client.StartRunAsync(Flows.WriterReviewer, input);
        return await client.ReadAllEventsAsync(runId, RunTimeout);
    }
}

/// <summary>A Redis server and a deployment of one gateway and two worker processes sharing it for policy and budgets.</summary>
public sealed class BudgetDeployment : RedisTenancyDeployment
{
    public const string Metered = "budget-e2e-metered";
    public const string Free = "budget-e2e-free";
    public const string Switched = "budget-e2e-switched";
    public const long TokensPerMinute = 1200;

    protected override DistributedDeploymentOptions Options => new()
    {
        Workers = 2,
        Environment = new Dictionary<string, string>
        {
            [$"Tenancy__Tenants__{Metered}__ModelTokensPerMinute"] = TokensPerMinute.ToString(CultureInfo.InvariantCulture),
        },
        WorkerEnvironment = new Dictionary<string, string>
        {
            // Writer-reviewer answers are at most 80 words: a smaller allowance lets more calls in per minute.
            ["Tenancy__Budgets__CompletionAllowance"] = "80",
        },
    };
}

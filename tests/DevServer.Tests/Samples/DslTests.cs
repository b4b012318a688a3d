using AgentOrchestrator.TestSupport;
using Temporalio.Activities;
using Temporalio.Api.Enums.V1;
using Temporalio.Client;
using Temporalio.Worker;
using Temporalio.Workflows;

namespace AgentOrchestrator.DevServer.Tests.Samples;

/// <summary>A workflow interpreting a small definition of sequential and parallel activity steps.</summary>
public sealed class DslTests(DevServerFixture server) : IClassFixture<DevServerFixture>
{
    /// <summary>Exactly one of Activity, Sequence or Parallel is set. Arguments starting with '$' name variables.</summary>
    public sealed record DslStep(
        string? Activity = null,
        List<string>? Arguments = null,
        string? Result = null,
        List<DslStep>? Sequence = null,
        List<DslStep>? Parallel = null);

    public sealed record DslInput(Dictionary<string, string> Variables, DslStep Root);

    public static class TextActivities
    {
        [Activity("Fetch")]
        public static string Fetch(string source) => $"<{source}>";

        [Activity("Upper")]
        public static string Upper(string text) => text.ToUpperInvariant();

        [Activity("Reverse")]
        public static string Reverse(string text) => new([.. text.Reverse()]);

        [Activity("Join")]
        public static string Join(string left, string right) => $"{left}+{right}";
    }

    [Workflow]
    public sealed class DslWorkflow
    {
        private static readonly ActivityOptions Options = new() { StartToCloseTimeout = TimeSpan.FromSeconds(30) };

        private Dictionary<string, string> _variables = [];

        [WorkflowRun]
        public async Task<Dictionary<string, string>> RunAsync(DslInput input)
        {
            _variables = new(input.Variables);
            await ExecuteAsync(input.Root);
            return _variables;
        }

        private async Task ExecuteAsync(DslStep step)
        {
            if (step.Activity is not null)
            {
                var args = (step.Arguments ?? []).Select(a => (object?)(a.StartsWith('$') ? _variables[a[1..]] : a)).ToList();
                var result = await Workflow.ExecuteActivityAsync<string>(step.Activity, args, Options);
                if (step.Result is not null)
                {
                    _variables[step.Result] = result;
                }
            }
            else if (step.Sequence is not null)
            {
                foreach (var child in step.Sequence)
                {
                    await ExecuteAsync(child);
                }
            }
            else if (step.Parallel is not null)
            {
                await Workflow.WhenAllAsync(step.Parallel.Select(ExecuteAsync));
            }
        }
    }

    private static DslStep Call(string activity, string result, params string[] args) => new(activity, [.. args], result);

    [Fact]
    public async Task Dsl_SequenceWithParallelBranches_RunsBranchesTogetherAndJoinsResults()
    {
        var (client, taskQueue) = await server.ConnectWithNewTaskQueueAsync();
        await using var worker = WorkerScope.Start(client, new TemporalWorkerOptions(taskQueue)
            .AddWorkflow<DslWorkflow>()
            .AddActivity(TextActivities.Fetch)
            .AddActivity(TextActivities.Upper)
            .AddActivity(TextActivities.Reverse)
            .AddActivity(TextActivities.Join));

        var definition = new DslInput(
            new() { ["a"] = "alpha", ["b"] = "beta" },
            new DslStep(Sequence:
            [
                Call("Fetch", "fa", "$a"),
                new DslStep(Parallel:
                [
                    Call("Upper", "p1", "$fa"),
                    Call("Reverse", "p2", "$b"),
                    new DslStep(Sequence: [Call("Fetch", "fb", "$b"), Call("Upper", "p3", "$fb")]),
                ]),
                Call("Join", "j1", "$p1", "$p2"),
                Call("Join", "out", "$j1", "$p3"),
            ]));

        var handle = await client.StartWorkflowAsync((DslWorkflow wf) => wf.RunAsync(definition), new WorkflowOptions($"wf-{Guid.NewGuid()}", taskQueue));
        var variables = await handle.GetResultAsync();

        Assert.Equal("<alpha>", variables["fa"]);
        Assert.Equal("<ALPHA>", variables["p1"]);
        Assert.Equal("ateb", variables["p2"]);
        Assert.Equal("<BETA>", variables["p3"]);
        Assert.Equal("<ALPHA>+ateb+<BETA>", variables["out"]);

        var history = await handle.FetchHistoryAsync();
        var events = history.Events.ToList();
        var scheduled = events.Where(e => e.EventType == EventType.ActivityTaskScheduled).ToList();
        Assert.Equal(
            ["Fetch", "Upper", "Reverse", "Fetch", "Upper", "Join", "Join"],
            scheduled.Select(e => e.ActivityTaskScheduledEventAttributes.ActivityType.Name));
        // The three branch heads are scheduled by the same workflow task, i.e. they run in parallel.
        var branchHeads = scheduled.Skip(1).Take(3).Select(e => e.ActivityTaskScheduledEventAttributes.WorkflowTaskCompletedEventId).Distinct();
        Assert.Single(branchHeads);
        long CompletedOf(int index) => events.Single(e =>
            e.EventType == EventType.ActivityTaskCompleted && e.ActivityTaskCompletedEventAttributes.ScheduledEventId == scheduled[index].EventId).EventId;
        // Inside the nested sequence the second step waits for the first; the joins wait for all branches.
        Assert.True(CompletedOf(3) < scheduled[4].EventId);
        var lastBranchDone = new[] { 1, 2, 4 }.Max(i => CompletedOf(i));
        Assert.True(lastBranchDone < scheduled[5].EventId);
        await Replay.AssertDeterministicAsync(history, typeof(DslWorkflow));
    }
}

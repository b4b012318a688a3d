using System.Text.Json;
using AgentOrchestrator.Contracts;
using AgentOrchestrator.TestSupport;
using AgentOrchestrator.Workflows;
using AgentOrchestrator.Workflows.Authoring;
using Temporalio.Client;
using Temporalio.Common;
using Temporalio.Exceptions;
using Temporalio.Worker;

namespace AgentOrchestrator.Workers.Tests.Agents;

/// <summary>
/// The shipped flows end to end on a real worker, DevServer and simulator, the simulator scripting the models'
/// choices (searches, handoffs, verdicts). Set RECORD_WORKFLOW_HISTORIES to tests/Workflows.Tests/Histories to
/// refresh the checked-in histories the replay tests use.
/// </summary>
public sealed class ShippedFlowRunTests(AgentPatternsWorkerFixture fixture) : IClassFixture<AgentPatternsWorkerFixture>
{
    private const string Tenant = "acme";
    private const string Search = "[[call:Research-search {\"query\":\"durable execution retries\"}]]";

    [Fact]
    public async Task ResearchTeam_CriticRejectsEveryDraft_StopsAtRoundLimitWithResearchedDraft()
    {
        WorkflowHandle handle = await fixture.StartFlowAsync(Flows.ResearchTeam, Tenant,
            $"Why does durable execution help agents? {Search} [[call:Flow-verdict {{\"approved\":false,\"feedback\":\"cite sources\"}}]]");
        string result = await handle.GetResultAsync<string>();
        IReadOnlyList<RunEvent> events = await CompletedEventsAsync(handle);

        RunStreams.AssertStepStream(events, "planner", attempt: 1);
        foreach (string researcher in new[] { "researcher-background", "researcher-evidence" })
        {
            RunEvent toolResult = events.Single(e => e.Step == $"{researcher}.tool1.1" && e.Type == RunEventTypes.ToolResult);
            Assert.Contains("[Durable execution]", toolResult.Text, StringComparison.Ordinal);
            Assert.StartsWith($"Based on {toolResult.Text}", RunStreams.AssertStepStream(events, $"{researcher}.turn2", attempt: 1), StringComparison.Ordinal);
        }
        // Two rounds (the limit): writer, critic, writer.2, critic.2; the critic's verdict is a control call, not a tool run.
        Assert.Equal(result, RunStreams.AssertStepStream(events, "writer.2", attempt: 1));
        Assert.Contains(events, e => e.Step == "critic.2" && e.Type == RunEventTypes.StepCompleted);
        Assert.DoesNotContain(events, e => e.Step is "writer.3" or "critic.3");
        Assert.DoesNotContain(events, e => e.Type == RunEventTypes.ToolCall && e.Step!.StartsWith("critic", StringComparison.Ordinal));
        Assert.True(RunStreams.PositionOf(events, RunEventTypes.StepCompleted, "critic")
            < RunStreams.PositionOf(events, RunEventTypes.StepStarted, "writer.2"));
        await AssertReplaysAndRecordAsync(handle, Flows.ResearchTeam);
    }

    [Fact]
    public async Task ResearchTeam_CriticApproves_StopsAfterFirstRound()
    {
        WorkflowHandle handle = await fixture.StartFlowAsync(Flows.ResearchTeam, Tenant,
            $"What is idempotency? {Search} [[call:Flow-verdict {{\"approved\":true,\"feedback\":\"good\"}}]]");
        string result = await handle.GetResultAsync<string>();
        IReadOnlyList<RunEvent> events = await CompletedEventsAsync(handle);

        Assert.Equal(result, RunStreams.AssertStepStream(events, "writer", attempt: 1));
        Assert.Contains(events, e => e.Step == "critic" && e.Type == RunEventTypes.StepCompleted);
        Assert.DoesNotContain(events, e => e.Step is "writer.2" or "critic.2");
    }

    [Fact]
    public async Task SupportTriage_TriageHandsOffToBilling_BillingAnswersAfterApproval()
    {
        WorkflowHandle handle = await fixture.StartFlowAsync(Flows.SupportTriage, Tenant,
            "I was charged twice this month. [[call:Flow-handoff {\"agent\":\"billing\",\"task\":\"Double charge\"}]]");
        string runId = RunIdOf(handle);

        InputRequestedData approval = await InputRequestedAsync(runId, "approval");
        string reply = RunStreams.AssertStepStream(fixture.Events.EventsOf(runId), "billing", attempt: 1);
        Assert.Contains(reply, approval.Prompt, StringComparison.Ordinal);
        Assert.True(JsonElement.DeepEquals(SupportTriageWorkflow.ApprovalSchema, approval.Schema));
        Assert.Equal((int)SupportTriageWorkflow.ApprovalTimeout.TotalSeconds, approval.TimeoutSeconds);
        await AnswerAsync(handle, "approval", "{\"approved\":true}");
        string result = await handle.GetResultAsync<string>();
        IReadOnlyList<RunEvent> events = await CompletedEventsAsync(handle);

        Assert.Equal(reply, result);
        Assert.Contains(events, e => e.Step == "triage" && e.Type == RunEventTypes.StepCompleted);
        Assert.DoesNotContain(events, e => e.Step is "technical" or "account" or "billing.2" or "approval.2");
        Assert.True(RunStreams.PositionOf(events, RunEventTypes.StepCompleted, "triage")
            < RunStreams.PositionOf(events, RunEventTypes.StepStarted, "billing"));
    }

    [Fact]
    public async Task SupportTriage_ReviewerRejectsThenApproves_SpecialistRevisesWithNoteAndRevisionIsResult()
    {
        WorkflowHandle handle = await fixture.StartFlowAsync(Flows.SupportTriage, Tenant,
            "Please close my account. [[call:Flow-handoff {\"agent\":\"account\"}]]");
        string runId = RunIdOf(handle);

        await InputRequestedAsync(runId, "approval");
        await AnswerAsync(handle, "approval", "{\"approved\":false,\"note\":\"Offer to export their data first.\"}");
        InputRequestedData second = await InputRequestedAsync(runId, "approval.2");
        string revised = RunStreams.AssertStepStream(fixture.Events.EventsOf(runId), "account.2", attempt: 1);
        Assert.Contains(revised, second.Prompt, StringComparison.Ordinal);
        await AnswerAsync(handle, "approval.2", "{\"approved\":true,\"note\":\"Good.\"}");

        Assert.Equal(revised, await handle.GetResultAsync<string>());
        IReadOnlyList<RunEvent> events = await CompletedEventsAsync(handle);
        Assert.NotEqual(revised, RunStreams.AssertStepStream(events, "account", attempt: 1));
        Assert.True(RunStreams.PositionOf(events, RunEventTypes.InputRequested, "approval")
            < RunStreams.PositionOf(events, RunEventTypes.StepStarted, "account.2"));
        await AssertReplaysAndRecordAsync(handle, Flows.SupportTriage);
    }

    [Fact]
    public async Task SupportTriage_ReviewerRejectsRevisionToo_EscalatesInsteadOfSendingUnapprovedReply()
    {
        WorkflowHandle handle = await fixture.StartFlowAsync(Flows.SupportTriage, Tenant,
            "The API returns 500. [[call:Flow-handoff {\"agent\":\"technical\"}]]");
        string runId = RunIdOf(handle);

        await InputRequestedAsync(runId, "approval");
        await AnswerAsync(handle, "approval", "{\"approved\":false,\"note\":\"Ask for the request id.\"}");
        await InputRequestedAsync(runId, "approval.2");
        await AnswerAsync(handle, "approval.2", "{\"approved\":false}");

        Assert.Equal(SupportTriageWorkflow.EscalationReply, await handle.GetResultAsync<string>());
        IReadOnlyList<RunEvent> events = await CompletedEventsAsync(handle);
        Assert.Equal(SupportTriageWorkflow.EscalationReply, events[^1].Text);
        Assert.DoesNotContain(events, e => e.Step is "technical.3" or "approval.3");
    }

    [Fact]
    public async Task SupportTriage_HandoffToUnknownAgent_FailsTypedAndPublishesRunFailed()
    {
        WorkflowHandle handle = await fixture.StartFlowAsync(Flows.SupportTriage, Tenant,
            "Sell me more. [[call:Flow-handoff {\"agent\":\"sales\"}]]");
        var failed = await Assert.ThrowsAsync<WorkflowFailedException>(() => handle.GetResultAsync<string>());
        var failure = Assert.IsType<ApplicationFailureException>(failed.InnerException);
        Assert.Equal(AgentFailures.InvalidHandoff, failure.ErrorType);
        Assert.Contains("'sales'", failure.Message, StringComparison.Ordinal);
        string runId = RunIdOf(handle);
        await Eventually.TrueAsync(() => fixture.Events.Has(runId, RunEventTypes.RunFailed), because: "run.failed published");
    }

    private async Task<InputRequestedData> InputRequestedAsync(string runId, string step)
    {
        RunEvent? requested = null;
        await Eventually.TrueAsync(
            () => (requested = fixture.Events.EventsOf(runId).FirstOrDefault(e => e.Type == RunEventTypes.InputRequested && e.Step == step)) is not null,
            because: $"input.requested for {step} published");
        return requested!.Data!.Value.Deserialize<InputRequestedData>(JsonSerializerOptions.Web)!;
    }

    private static Task AnswerAsync(WorkflowHandle handle, string requestId, string answerJson) =>
        handle.ExecuteUpdateAsync(HumanInputUpdates.ProvideInput,
            [new ProvideInputRequest { RequestId = requestId, Answer = JsonDocument.Parse(answerJson).RootElement.Clone() }]);

    private async Task<IReadOnlyList<RunEvent>> CompletedEventsAsync(WorkflowHandle handle)
    {
        string runId = RunIdOf(handle);
        await Eventually.TrueAsync(() => fixture.Events.Has(runId, RunEventTypes.RunCompleted), because: "run.completed published");
        IReadOnlyList<RunEvent> events = fixture.Events.EventsOf(runId);
        Assert.Equal(RunEventTypes.RunStarted, events[0].Type);
        Assert.Equal(RunEventTypes.RunCompleted, events[^1].Type);
        // (step, attempt, type, index) is unique within the run.
        Assert.Equal(events.Count, events.Select(e => e.Id).Distinct().Count());
        return events;
    }

    private static async Task AssertReplaysAndRecordAsync(WorkflowHandle handle, string flow)
    {
        WorkflowHistory history = await handle.FetchHistoryAsync();
        var replayer = new WorkflowReplayer(new WorkflowReplayerOptions()
            .AddWorkflow<ResearchTeamWorkflow>().AddWorkflow<SupportTriageWorkflow>());
        WorkflowReplayResult replay = await replayer.ReplayWorkflowAsync(history, throwOnReplayFailure: false);
        Assert.Null(replay.ReplayFailure);
        if (Environment.GetEnvironmentVariable("RECORD_WORKFLOW_HISTORIES") is { Length: > 0 } directory)
        {
            await File.WriteAllTextAsync(Path.Combine(directory, $"{flow}.json"), history.ToJson());
        }
    }

    private static string RunIdOf(WorkflowHandle handle) => handle.Id[(handle.Id.LastIndexOf('/') + 1)..];
}

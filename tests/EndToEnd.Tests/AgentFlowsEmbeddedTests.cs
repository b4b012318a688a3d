using System.Text.Json;
using AgentOrchestrator.Contracts;
using AgentOrchestrator.TestSupport;

namespace AgentOrchestrator.EndToEnd.Tests;

/// <summary>
/// The agent flows through the embedded stack's gateway, as a SignalR subscriber sees them: tool events with their
/// structured data and critique rounds, the simulator scripting the models' choices (support-triage, which waits for
/// a human, has its own: SupportTriageEmbeddedTests).
/// </summary>
public sealed class AgentFlowsEmbeddedTests : IAsyncLifetime
{
    private EmbeddedDeployment? _deployment;

    public async Task InitializeAsync() => _deployment = await EmbeddedDeployment.StartAsync();

    public async Task DisposeAsync()
    {
        if (_deployment is not null)
        {
            await _deployment.DisposeAsync();
        }
    }

    [Fact]
    public async Task ResearchTeam_Embedded_StreamsToolCallsAndCritiqueThenCompletes()
    {
        await using var client = await RunClient.ConnectAsync(_deployment!.Gateway, "tenant-agents");

        string research = await client.StartRunAsync(Flows.ResearchTeam,
            "How do retries work? [[call:Research-search {\"query\":\"retries backoff\"}]] [[call:Flow-verdict {\"approved\":true}]]");
        List<RunEvent> researchEvents = await ReadAsync(client, research);

        JsonElement researchRun = await client.WaitForRunEndAsync(research);
        Assert.Equal("completed", researchRun.GetProperty("status").GetString());
        RunEvent call = researchEvents.First(e => e.Type == RunEventTypes.ToolCall);
        Assert.Equal("Research-search", call.Data!.Value.GetProperty("tool").GetString());
        Assert.Equal("retries backoff", call.Data!.Value.GetProperty("arguments").GetProperty("query").GetString());
        RunEvent result = researchEvents.First(e => e.Type == RunEventTypes.ToolResult && e.Step == call.Step);
        Assert.Equal(call.Data!.Value.GetProperty("callId").GetString(), result.Data!.Value.GetProperty("callId").GetString());
        Assert.Contains("[Retries and backoff]", result.Data!.Value.GetProperty("result").GetString(), StringComparison.Ordinal);
        Assert.Equal(researchRun.GetProperty("result").GetString(), researchEvents[^1].Text);
        Assert.Contains(researchEvents, e => e.Step == "critic" && e.Type == RunEventTypes.StepCompleted);
    }

    private async Task<List<RunEvent>> ReadAsync(RunClient client, string runId)
    {
        try
        {
            return await client.ReadAllEventsAsync(runId, TimeSpan.FromMinutes(3));
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException("the run did not finish; process output:\n" + _deployment!.Output);
        }
    }
}

using AgentOrchestrator.Contracts;
using AgentOrchestrator.TestSupport;

namespace AgentOrchestrator.EndToEnd.Tests;

/// <summary>One writer-reviewer run through a stack's gateway, asserted from what the subscriber saw.</summary>
internal static class WriterReviewerScenario
{
    public static async Task RunAsync(IRunningDeployment deployment, string tenant)
    {
        await using var client = await RunClient.ConnectAsync(deployment.Gateway, tenant);

        var runId = await client.StartRunAsync(Flows.WriterReviewer, "Explain why durable workflows help AI agents.");
        List<RunEvent> events;
        try
        {
            events = await client.ReadAllEventsAsync(runId, TimeSpan.FromMinutes(2));
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException("the run did not finish; process output:\n" + deployment.Output);
        }
        var run = await client.WaitForRunEndAsync(runId);

        Assert.Equal("completed", run.GetProperty("status").GetString());
        RunAssertions.CompletedWithStreamedSteps(events, run.GetProperty("result").GetString()!);
    }
}

using System.Text.Json;

namespace AgentOrchestrator.Contracts.Tests;

public sealed class RunEventTests
{
    [Fact]
    public void ForStep_SameCoordinates_SameIdWhoeverPublishes()
    {
        var first = RunEventIds.ForStep("run-1", "writer", 2, RunEventTypes.Token, 7);
        var again = RunEventIds.ForStep("run-1", "writer", 2, RunEventTypes.Token, 7);

        Assert.Equal(first, again);
        Assert.Equal("run-1/writer/2/token/7", first);
        Assert.NotEqual(first, RunEventIds.ForStep("run-1", "writer", 3, RunEventTypes.Token, 7));
    }

    [Fact]
    public void RunWorkflowIds_For_CarriesTheTenant()
    {
        Assert.Equal("tenant/acme/run/r1", RunWorkflowIds.For("acme", "r1"));
        Assert.NotEqual(RunWorkflowIds.For("acme", "r1"), RunWorkflowIds.For("globex", "r1"));
    }

    [Fact]
    public void RunEvent_JsonRoundTrip_KeepsEveryField()
    {
        var original = new RunEvent
        {
            Id = RunEventIds.ForStep("r1", "reviewer", 1, RunEventTypes.Token, 3),
            RunId = "r1",
            TenantId = "acme",
            Type = RunEventTypes.Token,
            Step = "reviewer",
            Agent = "reviewer",
            Attempt = 1,
            Index = 3,
            Text = " more text",
            Ts = new DateTimeOffset(2026, 11, 28, 1, 2, 3, TimeSpan.Zero),
            ModelEmittedAtUs = 1_764_291_723_000_000,
        };

        var json = JsonSerializer.Serialize(original, JsonSerializerOptions.Web);
        var parsed = JsonSerializer.Deserialize<RunEvent>(json, JsonSerializerOptions.Web);

        Assert.Equal(original, parsed);
        Assert.Contains("\"runId\":\"r1\"", json, StringComparison.Ordinal);
    }

    [Fact]
    public void RunEvent_MissingRequiredField_FailsToDeserialize()
    {
        Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<RunEvent>("""{"id":"x","runId":"r1","type":"token"}""", JsonSerializerOptions.Web));
    }
}

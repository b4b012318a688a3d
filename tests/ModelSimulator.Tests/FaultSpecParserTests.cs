using AgentOrchestrator.ModelSimulator.Faults;

namespace AgentOrchestrator.ModelSimulator.Tests;

public sealed class FaultSpecParserTests
{
    [Fact]
    public void TryParse_NoSpecs_ReturnsNone()
    {
        Assert.True(FaultSpecParser.TryParse([], out FaultPlan? plan, out _));
        Assert.Equal(FaultPlan.None, plan);
    }

    [Fact]
    public void TryParse_EverySpecKind_FillsThePlan()
    {
        bool parsed = FaultSpecParser.TryParse(
            ["429:retry=7", "cut:5", "trickle:20", "TTFT:30", "Instant", "fail-first:2:my:key"],
            out FaultPlan? plan, out string? error);

        Assert.True(parsed, error);
        Assert.Equal(429, plan!.FailureStatusCode);
        Assert.Equal(7, plan.RetryAfterSeconds);
        Assert.Equal(5, plan.CutAfterTokens);
        Assert.Equal(TimeSpan.FromMilliseconds(20), plan.TokenInterval);
        Assert.Equal(TimeSpan.FromMilliseconds(30), plan.TimeToFirstToken);
        Assert.True(plan.Instant);
        Assert.Equal("my:key", plan.FailFirstKey);
        Assert.Equal(2, plan.FailFirstCount);
    }

    [Fact]
    public void TryParse_SameSettingTwice_LaterWins()
    {
        Assert.True(FaultSpecParser.TryParse(["429", "500", "trickle:5", "trickle:9"], out FaultPlan? plan, out _));

        Assert.Equal(500, plan!.FailureStatusCode);
        Assert.Equal(TimeSpan.FromMilliseconds(9), plan.TokenInterval);
    }

    [Fact]
    public void TryParse_BlankItems_AreSkipped()
    {
        Assert.True(FaultSpecParser.TryParse(["", "  ", " instant "], out FaultPlan? plan, out _));
        Assert.True(plan!.Instant);
    }

    [Theory]
    [InlineData("boom")]
    [InlineData("404")]
    [InlineData("cut:")]
    [InlineData("cut:-1")]
    [InlineData("trickle:fast")]
    [InlineData("ttft:600001")]
    [InlineData("429:retry=")]
    [InlineData("429:later")]
    [InlineData("fail-first:2")]
    [InlineData("fail-first:x:key")]
    [InlineData("fail-first:2:")]
    public void TryParse_InvalidSpec_FailsNamingIt(string spec)
    {
        bool parsed = FaultSpecParser.TryParse(["instant", spec], out FaultPlan? plan, out string? error);

        Assert.False(parsed);
        Assert.Null(plan);
        Assert.Contains($"'{spec}'", error, StringComparison.Ordinal);
    }

    [Fact]
    public void SplitModelName_WithSuffixes_ReturnsBaseNameAndSpecs()
    {
        var specs = new List<string>();

        string model = FaultSpecParser.SplitModelName("sim-1@instant@cut:5", specs);

        Assert.Equal("sim-1", model);
        Assert.Equal(["instant", "cut:5"], specs);
    }

    [Fact]
    public void SplitHeaderValue_CommaSeparated_AddsEachSpec()
    {
        var specs = new List<string>();

        FaultSpecParser.SplitHeaderValue("429:retry=2, trickle:10", specs);

        Assert.Equal(["429:retry=2", " trickle:10"], specs);
    }
}

namespace AgentOrchestrator.Client.Tests;

public sealed class ReconnectPolicyTests
{
    private static readonly ReconnectOptions Options = new()
    {
        InitialDelay = TimeSpan.FromMilliseconds(100),
        MaxDelay = TimeSpan.FromSeconds(5),
        MaxAttempts = 8,
    };

    [Fact]
    public void CeilingFor_DoublesFromInitialDelayUpToMaxDelay()
    {
        var policy = new ReconnectPolicy(Options);

        var ceilings = Enumerable.Range(1, 9).Select(a => policy.CeilingFor(a).TotalMilliseconds);

        Assert.Equal(new double[] { 100, 200, 400, 800, 1600, 3200, 5000, 5000, 5000 }, ceilings);
        Assert.Equal(TimeSpan.FromSeconds(5), policy.CeilingFor(int.MaxValue));
    }

    [Fact]
    public void DelayFor_SeededRandom_IsTheDrawnFractionOfTheCeiling()
    {
        var policy = new ReconnectPolicy(Options, new Random(1234));
        var expected = new Random(1234);

        for (var attempt = 1; attempt <= 12; attempt++)
        {
            var delay = policy.DelayFor(attempt);
            var ceiling = policy.CeilingFor(attempt);
            Assert.InRange(delay, TimeSpan.Zero, ceiling);
            Assert.Equal(TimeSpan.FromTicks((long)(ceiling.Ticks * expected.NextDouble())), delay);
        }
    }

    [Fact]
    public void DelayFor_ManyDraws_SpreadOverTheWholeWindowNotJustItsTop()
    {
        // Full jitter: [0, ceiling], so a crowd spreads from "now" to the ceiling (equal jitter would start at half).
        var policy = new ReconnectPolicy(Options, new Random(7));
        var ceiling = policy.CeilingFor(5).TotalMilliseconds;

        var draws = Enumerable.Range(0, 2000).Select(_ => policy.DelayFor(5).TotalMilliseconds).ToList();

        Assert.All(draws, d => Assert.InRange(d, 0, ceiling));
        Assert.True(draws.Min() < ceiling * 0.05, $"smallest draw {draws.Min()} of {ceiling}");
        Assert.True(draws.Max() > ceiling * 0.95, $"largest draw {draws.Max()} of {ceiling}");
        Assert.InRange(draws.Count(d => d < ceiling / 2), 800, 1200);
    }

    [Fact]
    public void DelayFor_RetryAfterLongerThanTheDraw_WaitsTheRetryAfter()
    {
        var policy = new ReconnectPolicy(Options, new Random(3));

        Assert.Equal(TimeSpan.FromSeconds(30), policy.DelayFor(1, TimeSpan.FromSeconds(30)));
        Assert.InRange(policy.DelayFor(1, TimeSpan.Zero), TimeSpan.Zero, policy.CeilingFor(1));
    }

    [Fact]
    public void CanRetry_StopsAfterMaxAttempts()
    {
        var policy = new ReconnectPolicy(Options);

        Assert.True(policy.CanRetry(Options.MaxAttempts));
        Assert.False(policy.CanRetry(Options.MaxAttempts + 1));
    }
}

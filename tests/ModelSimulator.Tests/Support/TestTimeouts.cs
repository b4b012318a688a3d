namespace AgentOrchestrator.ModelSimulator.Tests.Support;

/// <summary>Generous limits: they only stop a hung test, they never measure speed.</summary>
internal static class TestTimeouts
{
    public static readonly TimeSpan Request = TimeSpan.FromSeconds(60);

    public static CancellationTokenSource Source() => new(Request);
}

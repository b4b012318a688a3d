namespace AgentOrchestrator.ModelSimulator.Endpoints;

/// <summary>
/// Wall-clock stamps for latency measurement (<c>x_emitted_at_us</c>, <c>X-Simulator-Started-At-Us</c>).
/// Always the system clock, even when delays run on an injected <see cref="TimeProvider"/>: the stamps are
/// compared with clocks in other processes.
/// </summary>
internal static class EmitClock
{
    public static long UnixMicrosecondsNow() =>
        (TimeProvider.System.GetUtcNow() - DateTimeOffset.UnixEpoch).Ticks / TimeSpan.TicksPerMicrosecond;
}

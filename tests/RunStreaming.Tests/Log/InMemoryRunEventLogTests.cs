using AgentOrchestrator.RunStreaming.Log;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace AgentOrchestrator.RunStreaming.Tests.Log;

public sealed class InMemoryRunEventLogTests : RunEventLogConformanceTests
{
    private readonly FakeTimeProvider _time = new(DateTimeOffset.Parse("2026-01-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
    private readonly RunEventLogOptions _options = new() { Retention = TimeSpan.FromHours(1) };

    public InMemoryRunEventLogTests() => Log = new InMemoryRunEventLog(Options.Create(_options), _time);

    protected override IRunEventLog Log { get; }

    protected override Task ExpireAsync(string tenantId, string runId)
    {
        _time.Advance(_options.Retention + TimeSpan.FromSeconds(1));
        return Task.CompletedTask;
    }
}

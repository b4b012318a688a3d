namespace AgentOrchestrator.Workers.Tests.Budgets;

/// <summary>
/// Tests that measure this process's GC heap run alone: any test class running beside them allocates into the same
/// heap, so a growth figure would measure the neighbours rather than the code under test.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class RunsAlone
{
    public const string Name = "Memory measurement (runs alone)";
}

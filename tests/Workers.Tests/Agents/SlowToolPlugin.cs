using System.Collections.Concurrent;
using System.ComponentModel;
using Microsoft.SemanticKernel;

namespace AgentOrchestrator.Workers.Tests.Agents;

/// <summary>Which jobs the slow tool started, and which of them saw their cancellation token fire.</summary>
public sealed class SlowToolProbe
{
    public ConcurrentDictionary<string, bool> Started { get; } = new();

    public ConcurrentDictionary<string, bool> Canceled { get; } = new();
}

/// <summary>A tool that runs until it is canceled, as a long export or a human-paced API would.</summary>
public sealed class SlowToolPlugin(SlowToolProbe probe)
{
    public const string PluginName = "Slow";
    public const string WaitTool = "Slow-wait";

    [KernelFunction("wait")]
    [Description("Wait for a long-running job to finish.")]
    public async Task<string> WaitAsync([Description("Job id")] string job, CancellationToken cancellationToken)
    {
        probe.Started[job] = true;
        try
        {
            await Task.Delay(Timeout.InfiniteTimeSpan, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            probe.Canceled[job] = true;
            throw;
        }
        return $"job {job} finished";
    }
}

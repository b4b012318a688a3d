using System.Text.Json;
using AgentOrchestrator.Contracts;
using AgentOrchestrator.Workflows.Authoring;
using Temporalio.Workflows;

namespace AgentOrchestrator.Workers.Tests.Agents;

/// <summary>A test flow exercising one authoring pattern per <see cref="RunInput.Flow"/> value, with the run input as the prompt.</summary>
[Workflow(Name)]
public sealed class AgentPatternsWorkflow
{
    public const string Name = "agents-test-patterns";
    public const string ToolLoop = "tool-loop";
    public const string MaxIterations = "max-iterations";
    public const string FanOutBestEffort = "fan-out-best-effort";
    public const string FanOutFailFast = "fan-out-fail-fast";
    public const string Supervisor = "supervisor";
    public const string UnhandledControl = "unhandled-control";
    public const string SlowTool = "slow-tool";

    public static Agent Cashier { get; } = new()
    {
        Name = "cashier",
        Instructions = "You charge orders with the charge tool and confirm.",
        Tools = [FlakyChargePlugin.ChargeTool],
    };

    public static Agent OneTurnResearcher { get; } = new()
    {
        Name = "hasty",
        Instructions = "You research with the search tool.",
        Tools = ["Research-search"],
        MaxIterations = 1,
    };

    public static Agent Summarizer { get; } = new() { Name = "summarizer", Instructions = "Summarize the text." };

    // The simulator rejects an unknown fault spec with a 400: a model error that retrying cannot fix.
    public static Agent Broken { get; } = new() { Name = "broken", Instructions = "Summarize the text.", Model = "sim-1@no-such-fault" };

    public static Agent Waiter { get; } = new()
    {
        Name = "waiter",
        Instructions = "You wait for jobs with the wait tool.",
        Tools = [SlowToolPlugin.WaitTool],
    };

    public static Agent Lead { get; } = new() { Name = "lead", Instructions = "You lead the support team and delegate." };

    public static Agent Misconfigured { get; } = new() { Name = "misconfigured", Instructions = "You answer.", Tools = [ControlTools.Handoff] };

    public static Agent Refunds { get; } = new() { Name = "refunds", Instructions = "You process refunds." };

    [WorkflowRun]
    public Task<string> RunAsync(RunInput input) => AgentFlow.RunAsync(input, async flow =>
    {
        string prompt = flow.Run.Input;
        switch (flow.Run.Flow)
        {
            case ToolLoop:
                return (await flow.RunAgentAsync(Cashier, prompt)).Text;
            case MaxIterations:
                return (await flow.RunAgentAsync(OneTurnResearcher, prompt)).Text;
            case FanOutBestEffort or FanOutFailFast:
                FanOutResult result = await flow.FanOutAsync(
                    [new FanOutBranch(Summarizer, prompt), new FanOutBranch(Broken, prompt), new FanOutBranch(Summarizer, prompt)],
                    flow.Run.Flow == FanOutFailFast ? FanOutPolicy.FailFast : FanOutPolicy.BestEffort);
                return JsonSerializer.Serialize(result);
            case Supervisor:
                return (await flow.SuperviseAsync(Lead, [Refunds, Summarizer], prompt)).Text;
            case UnhandledControl:
                return (await flow.RunAgentAsync(Misconfigured, prompt)).Text;
            case SlowTool:
                return (await flow.RunAgentAsync(Waiter, prompt)).Text;
            default:
                throw new Temporalio.Exceptions.ApplicationFailureException($"Unknown pattern {flow.Run.Flow}", nonRetryable: true);
        }
    });
}

using AgentOrchestrator.Contracts;
using AgentOrchestrator.Workflows.Authoring;
using Temporalio.Workflows;

namespace HelloFlows;

/// <summary>The sample flow: a greeter agent looks up a salutation with its tool and greets the user.</summary>
[Workflow(Name)]
public sealed class HelloWorkflow
{
    public const string Name = "hello";

    public static Agent Greeter { get; } = new()
    {
        Name = "greeter",
        Instructions = "Greet the user in the language they ask for; look the salutation up with your tool.",
        Tools = [GreetingPlugin.SalutationTool],
        MaxIterations = 3,
    };

    [WorkflowRun]
    public Task<string> RunAsync(RunInput input) => AgentFlow.RunAsync(input, async flow =>
    {
        AgentResult greeting = await flow.RunAgentAsync(Greeter, flow.Run.Input);
        return greeting.Text;
    });
}

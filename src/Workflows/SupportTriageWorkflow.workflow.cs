using AgentOrchestrator.Contracts;
using AgentOrchestrator.Workflows.Authoring;
using Temporalio.Workflows;

namespace AgentOrchestrator.Workflows;

/// <summary>
/// The support-triage flow: a triage agent hands the customer's message to one specialist (billing, technical or
/// account) through the handoff tool, and that specialist's answer is the result. A message the triage agent can
/// answer itself (no handoff) is answered by it.
/// </summary>
[Workflow(Flows.SupportTriage)]
public sealed class SupportTriageWorkflow
{
    public static Agent Triage { get; } = new()
    {
        Name = "triage",
        Instructions = "You are the support triage agent. Decide which specialist should answer the customer.",
    };

    public static Agent Billing { get; } = new()
    {
        Name = "billing",
        Instructions = "Billing specialist: invoices, charges, refunds and payment methods.",
    };

    public static Agent Technical { get; } = new()
    {
        Name = "technical",
        Instructions = "Technical specialist: errors, outages, integrations and how-to questions.",
    };

    public static Agent Account { get; } = new()
    {
        Name = "account",
        Instructions = "Account specialist: sign-in, profile, plan changes and account closure.",
    };

    public static IReadOnlyList<Agent> Specialists { get; } = [Billing, Technical, Account];

    [WorkflowRun]
    public Task<string> RunAsync(RunInput input) => AgentFlow.RunAsync(input, async flow =>
    {
        HandoffResult handled = await flow.HandoffAsync(Triage, Specialists, flow.Run.Input);
        // HUMAN APPROVAL STEP: a specialist's reply that commits the company (a refund, an account closure) is
        // where a human approves before it is sent; the human-input primitive (src/Workflows/HumanInput) plugs in
        // here once merged, with handled.Answer.Text as what the human reviews.
        return handled.Answer.Text;
    });
}

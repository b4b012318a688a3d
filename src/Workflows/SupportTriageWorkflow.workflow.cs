using System.Text.Json;
using AgentOrchestrator.Contracts;
using AgentOrchestrator.Workflows.Authoring;
using Temporalio.Workflows;

namespace AgentOrchestrator.Workflows;

/// <summary>
/// The support-triage flow: a triage agent hands the customer's message to one specialist (billing, technical or
/// account) through the handoff tool (or answers itself), and a human approves the reply before it is the result.
/// Rejected: the specialist revises once with the reviewer's note and the revision is reviewed again. A second
/// rejection, or no answer within <see cref="ApprovalTimeout"/>, escalates: the result is <see cref="EscalationReply"/>,
/// so an unapproved reply is never sent.
/// </summary>
[Workflow(Flows.SupportTriage)]
public sealed class SupportTriageWorkflow
{
    /// <summary>How long a reviewer has to approve a reply before the run escalates.</summary>
    public static readonly TimeSpan ApprovalTimeout = TimeSpan.FromHours(24);

    /// <summary>The result when no reply was approved: the case goes to the human support queue.</summary>
    public const string EscalationReply = "Your request has been passed to our support team, who will reply to you directly.";

    /// <summary>The reviewer's answer: {"approved": true} or {"approved": false, "note": "what to change"}.</summary>
    public static JsonElement ApprovalSchema { get; } = JsonSerializer.SerializeToElement(new
    {
        type = "object",
        properties = new
        {
            approved = new { type = "boolean" },
            note = new { type = "string", maxLength = 2000 },
        },
        required = new[] { "approved" },
        additionalProperties = false,
    });

    // What a timeout answers: a rejection, which (being a timeout) escalates without a revision.
    private static readonly JsonElement NoReviewer = JsonSerializer.SerializeToElement(new { approved = false, note = "No reviewer answered in time." });

    /// <summary>Routes the message to a specialist.</summary>
    public static Agent Triage { get; } = new()
    {
        Name = "triage",
        Instructions = "You are the support triage agent. Decide which specialist should answer the customer.",
    };

    /// <summary>Answers billing questions.</summary>
    public static Agent Billing { get; } = new()
    {
        Name = "billing",
        Instructions = "Billing specialist: invoices, charges, refunds and payment methods.",
    };

    /// <summary>Answers technical questions.</summary>
    public static Agent Technical { get; } = new()
    {
        Name = "technical",
        Instructions = "Technical specialist: errors, outages, integrations and how-to questions.",
    };

    /// <summary>Answers account questions.</summary>
    public static Agent Account { get; } = new()
    {
        Name = "account",
        Instructions = "Account specialist: sign-in, profile, plan changes and account closure.",
    };

    /// <summary>The agents triage may hand off to.</summary>
    public static IReadOnlyList<Agent> Specialists { get; } = [Billing, Technical, Account];

    /// <summary>Runs the flow; returns the approved reply.</summary>
    [WorkflowRun]
    public Task<string> RunAsync(RunInput input) => AgentFlow.RunAsync(input, async flow =>
    {
        HandoffResult handled = await flow.HandoffAsync(Triage, Specialists, flow.Run.Input);
        Agent author = handled.Specialist ?? Triage;
        string reply = handled.Answer.Text;
        HumanInputAnswer review = await RequestApprovalAsync(flow, author, reply);
        if (Approved(review))
        {
            return reply;
        }
        if (review.TimedOut)
        {
            return EscalationReply;
        }
        string revised = (await flow.RunAgentAsync(author,
            $"Customer message:\n{flow.Run.Input}\n\nYour reply:\n{reply}\n\nA reviewer rejected it: {Note(review)}\n\nWrite an improved reply.")).Text;
        return Approved(await RequestApprovalAsync(flow, author, revised)) ? revised : EscalationReply;
    });

    private static Task<HumanInputAnswer> RequestApprovalAsync(AgentFlow flow, Agent author, string reply) =>
        HumanInput.RequestAsync(
            flow.NextStep("approval"),
            $"Approve the {author.Name} agent's reply to the customer?\n\n{reply}",
            ApprovalSchema,
            ApprovalTimeout,
            NoReviewer);

    private static bool Approved(HumanInputAnswer review) => !review.TimedOut && review.Answer.GetProperty("approved").GetBoolean();

    private static string Note(HumanInputAnswer review) =>
        review.Answer.TryGetProperty("note", out JsonElement note) ? note.GetString() ?? "no note" : "no note";
}

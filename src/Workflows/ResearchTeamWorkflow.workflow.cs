using AgentOrchestrator.Contracts;
using AgentOrchestrator.Workflows.Authoring;
using Temporalio.Workflows;

namespace AgentOrchestrator.Workflows;

/// <summary>
/// The research-team flow: a planner outlines the question, two researchers search the knowledge base in parallel
/// (best-effort: one failed researcher is reported to the writer, not fatal), a writer drafts from their notes and
/// a critic reviews the draft for up to <see cref="MaxCritiqueRounds"/> rounds. The final draft is the result.
/// </summary>
[Workflow(Flows.ResearchTeam)]
public sealed class ResearchTeamWorkflow
{
    /// <summary>Most critique rounds before the draft is taken as it is.</summary>
    public const int MaxCritiqueRounds = 2;

    /// <summary>The knowledge-base search tool the worker registers (src/Workers/Tools/KnowledgeBasePlugin.cs).</summary>
    public const string SearchTool = "Research-search";

    /// <summary>Splits the question into lines of inquiry.</summary>
    public static Agent Planner { get; } = new()
    {
        Name = "planner",
        Instructions = "You are the planner. Break the research question into two short lines of inquiry: background and evidence.",
    };

    /// <summary>Searches for background.</summary>
    public static Agent BackgroundResearcher { get; } = new()
    {
        Name = "researcher-background",
        Instructions = "You are a researcher. Search the knowledge base for background on the question and summarize what you found.",
        Tools = [SearchTool],
    };

    /// <summary>Searches for evidence and examples.</summary>
    public static Agent EvidenceResearcher { get; } = new()
    {
        Name = "researcher-evidence",
        Instructions = "You are a researcher. Search the knowledge base for concrete evidence and examples and summarize them.",
        Tools = [SearchTool],
    };

    /// <summary>Drafts the answer from the notes.</summary>
    public static Agent Writer { get; } = new()
    {
        Name = "writer",
        Instructions = "You are the writer. Answer the question from the researchers' notes, clearly and briefly.",
    };

    /// <summary>Judges the draft through the Flow-verdict tool.</summary>
    public static Agent Critic { get; } = new()
    {
        Name = "critic",
        Instructions = "You are the critic. Judge whether the draft answers the question from the notes; give a verdict with feedback.",
    };

    /// <summary>Runs the flow; returns the final draft.</summary>
    [WorkflowRun]
    public Task<string> RunAsync(RunInput input) => AgentFlow.RunAsync(input, async flow =>
    {
        string question = flow.Run.Input;
        AgentResult plan = await flow.RunAgentAsync(Planner, question);
        string brief = $"Question:\n{question}\n\nPlan:\n{plan.Text}";
        FanOutResult research = await flow.FanOutAsync(
            [new FanOutBranch(BackgroundResearcher, brief), new FanOutBranch(EvidenceResearcher, brief)],
            FanOutPolicy.Require(1));
        string notes = string.Join("\n\n", research.Succeeded.Select(r => $"Notes from {r.Agent}:\n{r.Text}"));
        if (research.Failed.Count > 0)
        {
            notes += "\n\nMissing notes: " + string.Join("; ", research.Failed.Select(f => $"{f.Agent} failed ({f.Error})"));
        }
        CritiqueResult critique = await flow.CritiqueLoopAsync(Writer, Critic, $"{question}\n\n{notes}", MaxCritiqueRounds);
        return critique.Draft;
    });
}

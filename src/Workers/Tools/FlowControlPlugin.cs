using System.ComponentModel;
using Microsoft.SemanticKernel;

namespace AgentOrchestrator.Workers.Tools;

/// <summary>
/// The control tools of the authoring library (plugin "Flow"; ControlTools in src/Workflows/Authoring). They are
/// declared to the model like any tool so it can choose through them, but the workflow handles their calls itself
/// (hand off, delegate, judge) and never runs them as tool activities; run directly they only acknowledge.
/// </summary>
internal sealed class FlowControlPlugin
{
    /// <summary>The plugin name the model sees ("Flow-handoff", "Flow-verdict").</summary>
    public const string PluginName = "Flow";

    /// <summary>Hand off to another agent (handled by the workflow).</summary>
    [KernelFunction("handoff")]
    [Description("Hand the conversation, or a task, to another agent.")]
    public static string Handoff(
        [Description("Name of the agent to hand off to.")] string agent,
        [Description("Optional: the task for that agent, or why it should take over.")] string? task = null) =>
        task is null ? $"Handed off to {agent}." : $"Handed off to {agent}: {task}";

    /// <summary>A critic's verdict on a draft (handled by the workflow).</summary>
    [KernelFunction("verdict")]
    [Description("Give the verdict on a draft: approve it, or reject it with feedback for the next revision.")]
    public static string Verdict(
        [Description("True when the draft is good enough to publish.")] bool approved,
        [Description("What to improve (or why it is good).")] string feedback = "") =>
        approved ? "Approved." : $"Rejected: {feedback}";
}

using AgentOrchestrator.Contracts;
using Temporalio.Workflows;

namespace AgentOrchestrator.Workflows;

/// <summary>
/// How a workflow publishes the events it owns (run.started, the terminal event, input.requested): through
/// <see cref="AgentActivityNames.PublishRunEvent"/> run as a local activity on the worker that runs the workflow task,
/// so an event costs neither an activity task nor a workflow task of its own (before: a full round trip each, 2 of a
/// 2-step run's 4 activities and 5 workflow tasks). The workflow still waits for it, so the order in docs/protocol.md
/// holds (run.started before any step starts, the terminal event after every step finished). The activity returns the
/// event it published: a local activity's marker keeps only its result, and the gateway's durable transcript reads it there.
/// </summary>
internal static class RunEventPublishing
{
    /// <summary>
    /// Runs started before this change publish through a regular activity: their histories have no marker for it and
    /// replay down that path (Histories/v1 in Workflows.Tests).
    /// </summary>
    public const string LocalActivityPatch = "run-events.local-activity";

    private static readonly TimeSpan PublishTimeout = TimeSpan.FromSeconds(30);

    /// <summary>Publishes <paramref name="lifecycle"/> and returns once it is in the run's log (retried per <see cref="AgentActivityOptions.Publish"/>).</summary>
    public static Task PublishAsync(RunLifecycleEvent lifecycle, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(lifecycle);
        return Workflow.Patched(LocalActivityPatch)
            ? Workflow.ExecuteLocalActivityAsync(AgentActivityNames.PublishRunEvent, [lifecycle], new LocalActivityOptions
            {
                StartToCloseTimeout = PublishTimeout,
                RetryPolicy = AgentActivityOptions.Publish,
                CancellationToken = cancellationToken,
            })
            : Workflow.ExecuteActivityAsync(AgentActivityNames.PublishRunEvent, [lifecycle], new ActivityOptions
            {
                StartToCloseTimeout = PublishTimeout,
                RetryPolicy = AgentActivityOptions.Publish,
                CancellationToken = cancellationToken,
            });
    }
}

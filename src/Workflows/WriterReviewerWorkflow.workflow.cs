using AgentOrchestrator.Contracts;
using Temporalio.Exceptions;
using Temporalio.Workflows;

namespace AgentOrchestrator.Workflows;

/// <summary>
/// The writer-reviewer flow: a writer agent answers the user's input, a reviewer agent that sees the draft
/// improves it; the reviewer's text is the run's result. Only each step's final text enters history; tokens go
/// to the bus from the activities.
/// </summary>
[Workflow(Flows.WriterReviewer)]
public sealed class WriterReviewerWorkflow
{
    /// <summary>Step id of the writer.</summary>
    public const string WriterStep = "writer";
    /// <summary>Step id of the reviewer.</summary>
    public const string ReviewerStep = "reviewer";

    /// <summary>The writer's instructions.</summary>
    public const string WriterInstructions =
        "You are the writer. Write a short, clear answer to the user's request.";

    /// <summary>The reviewer's instructions.</summary>
    public const string ReviewerInstructions =
        "You are the reviewer. Review the draft answer to the user's request and reply with an improved final version.";

    /// <summary>Runs the flow; returns the reviewer's text.</summary>
    [WorkflowRun]
    public async Task<string> RunAsync(RunInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        await PublishAsync(input, RunEventTypes.RunStarted, text: null, Workflow.CancellationToken);
        try
        {
            AgentStepResult draft = await RunStepAsync(new AgentStepInput
            {
                RunId = input.RunId,
                TenantId = input.TenantId,
                Step = WriterStep,
                Agent = WriterStep,
                Instructions = WriterInstructions,
                Prompt = input.Input,
            });
            AgentStepResult review = await RunStepAsync(new AgentStepInput
            {
                RunId = input.RunId,
                TenantId = input.TenantId,
                Step = ReviewerStep,
                Agent = ReviewerStep,
                Instructions = ReviewerInstructions,
                Prompt = $"Request:\n{input.Input}\n\nDraft answer:\n{draft.Text}",
            });
            await PublishAsync(input, RunEventTypes.RunCompleted, review.Text, Workflow.CancellationToken);
            return review.Text;
        }
        catch (Exception e) when (TemporalException.IsCanceledException(e))
        {
            // The run's own cancellation token is already canceled: publish on a detached one.
            using var detached = new CancellationTokenSource();
            await PublishAsync(input, RunEventTypes.RunCanceled, text: null, detached.Token);
            throw;
        }
        catch (FailureException e)
        {
            // Only Temporal failures end the run; any other exception fails the workflow task, which is retried.
            await PublishAsync(input, RunEventTypes.RunFailed, FailureMessage(e), Workflow.CancellationToken);
            throw;
        }
    }

    private static Task<AgentStepResult> RunStepAsync(AgentStepInput step) =>
        Workflow.ExecuteActivityAsync<AgentStepResult>(AgentActivityNames.RunAgentStep, [step], AgentActivityOptions.ModelCall);

    private static Task PublishAsync(RunInput input, string type, string? text, CancellationToken cancellationToken) =>
        RunEventPublishing.PublishAsync(new RunLifecycleEvent { RunId = input.RunId, TenantId = input.TenantId, Type = type, Text = text }, cancellationToken);

    // The cause under the activity wrapper says what went wrong (the model's error, a timeout), not "activity failed".
    private static string FailureMessage(Exception e)
    {
        Exception current = e;
        while (current is ActivityFailureException && current.InnerException is not null)
        {
            current = current.InnerException;
        }
        return current.Message;
    }
}

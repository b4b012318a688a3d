using System.Collections.Concurrent;
using AgentOrchestrator.Contracts;
using Temporalio.Activities;
using Temporalio.Exceptions;

namespace AgentOrchestrator.Workflows.Tests;

/// <summary>
/// Small in-test activities registered under the worker's activity names: the agent step answers from its input
/// (or fails, or waits for cancellation, as the prompt asks) and run events are recorded.
/// </summary>
public sealed class RecordingActivities
{
    public const string FailMarker = "[fail]";
    public const string HangMarker = "[hang]";

    public ConcurrentQueue<AgentStepInput> Steps { get; } = new();

    public ConcurrentQueue<RunLifecycleEvent> RunEvents { get; } = new();

    public TaskCompletionSource StepCanceled { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    [Activity(AgentActivityNames.RunAgentStep)]
    public async Task<AgentStepResult> RunAgentStepAsync(AgentStepInput input)
    {
        Steps.Enqueue(input);
        if (input.Prompt.Contains(FailMarker, StringComparison.Ordinal))
        {
            throw new ApplicationFailureException("model refused", nonRetryable: true);
        }
        if (input.Prompt.Contains(HangMarker, StringComparison.Ordinal))
        {
            ActivityExecutionContext context = ActivityExecutionContext.Current;
            try
            {
                while (true)
                {
                    context.Heartbeat();
                    await Task.Delay(TimeSpan.FromMilliseconds(100), context.CancellationToken);
                }
            }
            catch (OperationCanceledException)
            {
                StepCanceled.TrySetResult();
                throw;
            }
        }
        return new AgentStepResult { Text = $"{input.Agent} says: {input.Prompt.Length} chars seen", CompletionTokens = 5 };
    }

    [Activity(AgentActivityNames.PublishRunEvent)]
    public RunLifecycleEvent PublishRunEvent(RunLifecycleEvent lifecycle)
    {
        RunEvents.Enqueue(lifecycle);
        return lifecycle;
    }
}

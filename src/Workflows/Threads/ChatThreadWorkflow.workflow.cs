using AgentOrchestrator.Contracts;
using Temporalio.Exceptions;
using Temporalio.Workflows;

namespace AgentOrchestrator.Workflows;

/// <summary>
/// A conversation: each user message arrives as the "post-message" update, which runs one turn (step "turn.N",
/// streamed by the agent activity with the conversation so far as history) and returns its answer. Turns run one
/// at a time, in the order their messages were accepted. After <see cref="ThreadInput.TurnsPerRun"/> turns the
/// workflow continues as new with the conversation in its input, so its history stays short and no context is lost;
/// the workflow id (and so the thread id and its event stream) stays the same. A thread ends when it is canceled.
/// </summary>
[Workflow(ChatThreads.WorkflowType)]
public sealed class ChatThreadWorkflow
{
    /// <summary>The agent name every turn streams under.</summary>
    public const string AssistantAgent = "assistant";

    private readonly List<ConversationMessage> _messages;
    private readonly ThreadInput _input;
    private int _acceptedTurns;
    private int _finishedTurns;
    private bool _announced;

    /// <summary>Takes the thread's input before the first task, so an early update already sees it.</summary>
    [WorkflowInit]
    public ChatThreadWorkflow(ThreadInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        _input = input;
        _messages = [.. input.Messages];
        _acceptedTurns = input.CompletedTurns;
        _finishedTurns = input.CompletedTurns;
        // A continued run was announced by the first one.
        _announced = input.CompletedTurns > 0 || input.Messages.Count > 0;
    }

    /// <summary>The conversation as this run holds it (a query, for operators and tests).</summary>
    [WorkflowQuery("messages")]
    public IReadOnlyList<ConversationMessage> Messages => _messages;

    /// <summary>Runs the thread's turns until it is canceled or continues as new.</summary>
    [WorkflowRun]
    public async Task RunAsync(ThreadInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        try
        {
            if (input.CompletedTurns == 0 && input.Messages.Count == 0)
            {
                await PublishAsync(input, RunEventTypes.RunStarted, Workflow.CancellationToken);
                _announced = true;
            }
            // Roll over once this run took its share of turns and every accepted turn has answered.
            await Workflow.WaitConditionAsync(() =>
                _acceptedTurns - input.CompletedTurns >= input.TurnsPerRun && _finishedTurns == _acceptedTurns && Workflow.AllHandlersFinished);
        }
        catch (Exception e) when (TemporalException.IsCanceledException(e))
        {
            using var detached = new CancellationTokenSource();
            await PublishAsync(input, RunEventTypes.RunCanceled, detached.Token);
            throw;
        }
        ThreadInput next = input with { CompletedTurns = _finishedTurns, Messages = [.. _messages] };
        throw Workflow.CreateContinueAsNewException((ChatThreadWorkflow wf) => wf.RunAsync(next));
    }

    /// <summary>Runs one turn for <paramref name="message"/> and returns its answer.</summary>
    [WorkflowUpdate(ChatThreads.PostMessageUpdate)]
    public async Task<ThreadTurnResult> PostMessageAsync(ThreadMessageRequest message)
    {
        ArgumentNullException.ThrowIfNull(message);
        ThreadInput input = _input;
        int turn = ++_acceptedTurns;
        // One turn at a time: each turn's history holds every earlier turn's answer. The first turn also waits for
        // run.started to be published, so subscribers see the thread start before its first turn streams.
        await Workflow.WaitConditionAsync(() => _announced && _finishedTurns == turn - 1);
        string step = ChatThreads.TurnStep(turn);
        AgentStepResult answer;
        try
        {
            answer = await Workflow.ExecuteActivityAsync<AgentStepResult>(AgentActivityNames.RunAgentStep, [new AgentStepInput
            {
                RunId = input.ThreadId,
                TenantId = input.TenantId,
                Step = step,
                Agent = AssistantAgent,
                Instructions = input.Instructions,
                Prompt = message.Text,
                Model = input.Model,
                History = [.. _messages],
            }], AgentActivityOptions.ModelCall);
        }
        catch (ActivityFailureException)
        {
            // The turn failed after its retries: the thread goes on; the caller gets the error.
            _finishedTurns = turn;
            throw;
        }
        _messages.Add(new ConversationMessage(ConversationRoles.User, message.Text));
        _messages.Add(new ConversationMessage(ConversationRoles.Assistant, answer.Text));
        if (_messages.Count > input.MaxMessages)
        {
            _messages.RemoveRange(0, _messages.Count - input.MaxMessages);
        }
        _finishedTurns = turn;
        return new ThreadTurnResult(turn, step, answer.Text);
    }

    /// <summary>Refuses an empty message before it enters history.</summary>
    [WorkflowUpdateValidator(nameof(PostMessageAsync))]
    public void ValidatePostMessage(ThreadMessageRequest message)
    {
        if (message is null || string.IsNullOrWhiteSpace(message.Text))
        {
            throw new ApplicationFailureException("A message needs text.", "InvalidMessage");
        }
    }

    private static Task PublishAsync(ThreadInput input, string type, CancellationToken cancellationToken) =>
        RunEventPublishing.PublishAsync(new RunLifecycleEvent { RunId = input.ThreadId, TenantId = input.TenantId, Type = type }, cancellationToken);
}

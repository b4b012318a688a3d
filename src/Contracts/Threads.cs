namespace AgentOrchestrator.Contracts;

/// <summary>Names and ids of chat threads: a thread is a long-lived workflow whose events stream like a run's.</summary>
public static class ChatThreads
{
    /// <summary>Workflow type of a chat thread (not a flow: threads are started through /v1/threads).</summary>
    public const string WorkflowType = "chat-thread";

    /// <summary>Update "post-message": argument <see cref="ThreadMessageRequest"/>, result <see cref="ThreadTurnResult"/>.</summary>
    public const string PostMessageUpdate = "post-message";

    /// <summary>The assistant's instructions when a thread is created without its own.</summary>
    public const string DefaultInstructions = "You are a helpful assistant. Answer the user's latest message, using the conversation so far.";

    /// <summary>Step id of turn <paramref name="turn"/> (1-based, counted over the whole thread, across continue-as-new).</summary>
    public static string TurnStep(int turn) => $"turn.{turn}";
}

/// <summary>Who said a message of a conversation.</summary>
public static class ConversationRoles
{
    /// <summary>The user's message.</summary>
    public const string User = "user";
    /// <summary>The assistant's answer.</summary>
    public const string Assistant = "assistant";
}

/// <summary>One message of a conversation, as the model sees it.</summary>
public sealed record ConversationMessage(string Role, string Text);

/// <summary>
/// What a chat-thread workflow starts with, and what it carries into its next run when it continues as new: the
/// conversation so far and the number of turns taken.
/// </summary>
public sealed record ThreadInput
{
    /// <summary>The thread id; also the run id of its event stream.</summary>
    public required string ThreadId { get; init; }

    /// <summary>The tenant that owns the thread.</summary>
    public required string TenantId { get; init; }

    /// <summary>The assistant's system instructions for every turn.</summary>
    public required string Instructions { get; init; }

    /// <summary>Turns after which the workflow continues as new (keeps its history short).</summary>
    public required int TurnsPerRun { get; init; }

    /// <summary>The most messages kept (and sent to the model); the oldest are dropped first.</summary>
    public required int MaxMessages { get; init; }

    /// <summary>Model name; null uses the worker's default.</summary>
    public string? Model { get; init; }

    /// <summary>Turns taken by earlier runs of this thread.</summary>
    public int CompletedTurns { get; init; }

    /// <summary>The conversation carried over from earlier runs.</summary>
    public IReadOnlyList<ConversationMessage> Messages { get; init; } = [];
}

/// <summary>A user's message to a thread.</summary>
public sealed record ThreadMessageRequest
{
    /// <summary>The message text.</summary>
    public required string Text { get; init; }
}

/// <summary>A turn's outcome: the step its answer streamed under, and the answer.</summary>
public sealed record ThreadTurnResult(int Turn, string Step, string Text);

using System.Diagnostics.CodeAnalysis;

namespace AgentOrchestrator.RunStreaming.Subscriptions;

/// <summary>The result of <see cref="RunSubscriptions.SubscribeAsync"/>: an open subscription or a typed error, never both.</summary>
public sealed class SubscribeOutcome
{
    private SubscribeOutcome(RunSubscription? subscription, SubscribeError? error)
    {
        Subscription = subscription;
        Error = error;
    }

    public RunSubscription? Subscription { get; }

    public SubscribeError? Error { get; }

    [MemberNotNullWhen(true, nameof(Subscription))]
    [MemberNotNullWhen(false, nameof(Error))]
    public bool Opened => Subscription is not null;

    internal static SubscribeOutcome Of(RunSubscription subscription) => new(subscription, null);

    internal static SubscribeOutcome Of(SubscribeError error) => new(null, error);
}

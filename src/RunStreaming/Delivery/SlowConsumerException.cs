namespace AgentOrchestrator.RunStreaming.Delivery;

/// <summary>A subscription ended because its outbound queue passed the hard limit; the message starts with "[slow_consumer] ".</summary>
public sealed class SlowConsumerException : RunStreamEndedException
{
    public SlowConsumerException()
    {
    }

    public SlowConsumerException(string message)
        : base(message)
    {
    }

    public SlowConsumerException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public override string Code => "slow_consumer";
}

using Temporalio.Api.Common.V1;

namespace AgentOrchestrator.DevServer.Matching;

/// <summary>Where a task sits in its queue: Temporal's priority key (1 highest .. 5), fairness key and weight.</summary>
internal readonly record struct DispatchKey(int PriorityKey, string FairnessKey, float FairnessWeight)
{
    public const int DefaultPriorityKey = 3;
    public const int MaxPriorityKey = 5;

    public static DispatchKey From(Priority? priority)
    {
        if (priority is null)
        {
            return new DispatchKey(DefaultPriorityKey, string.Empty, 1f);
        }
        var key = priority.PriorityKey is > 0 and <= MaxPriorityKey ? priority.PriorityKey : DefaultPriorityKey;
        var weight = priority.FairnessWeight > 0 ? priority.FairnessWeight : 1f;
        return new DispatchKey(key, priority.FairnessKey ?? string.Empty, weight);
    }

    /// <summary>Fields left unset on the child (an activity, a child workflow) come from the parent.</summary>
    public static Priority? Merge(Priority? own, Priority? inherited)
    {
        if (own is null)
        {
            return inherited?.Clone();
        }
        if (inherited is null)
        {
            return own;
        }
        var merged = own.Clone();
        if (merged.PriorityKey == 0)
        {
            merged.PriorityKey = inherited.PriorityKey;
        }
        if (string.IsNullOrEmpty(merged.FairnessKey))
        {
            merged.FairnessKey = inherited.FairnessKey;
        }
        if (merged.FairnessWeight == 0)
        {
            merged.FairnessWeight = inherited.FairnessWeight;
        }
        return merged;
    }
}

using AgentOrchestrator.Contracts;

namespace AgentOrchestrator.RunStreaming.Log;

/// <summary>What a run-event message must satisfy to be appended, and to be folded into its run.</summary>
internal static class RunEventsValidation
{
    /// <summary>
    /// Run id, tenant and events present; every event with an id and the message's run and tenant (an event filed
    /// under the wrong run would leak into it); and, when reading, the message is the run's it was read for.
    /// </summary>
    public static bool BelongsTo(RunEventsPublished? message, string? tenantId, string? runId, out string problem)
    {
        if (message is null || string.IsNullOrEmpty(message.RunId) || string.IsNullOrEmpty(message.TenantId) || message.Events is null)
        {
            problem = "runId, tenantId and events are required";
            return false;
        }
        if ((tenantId is not null && message.TenantId != tenantId) || (runId is not null && message.RunId != runId))
        {
            problem = $"the message belongs to run {message.TenantId}/{message.RunId}";
            return false;
        }
        foreach (var runEvent in message.Events)
        {
            if (runEvent is null || string.IsNullOrEmpty(runEvent.Id) || runEvent.RunId != message.RunId || runEvent.TenantId != message.TenantId)
            {
                problem = "every event needs an id and the message's runId and tenantId";
                return false;
            }
        }
        problem = string.Empty;
        return true;
    }

    /// <exception cref="ArgumentException">The message cannot be appended (see <see cref="BelongsTo"/>).</exception>
    public static void EnsureAppendable(RunEventsPublished message)
    {
        if (!BelongsTo(message, null, null, out var problem))
        {
            throw new ArgumentException("This run-event message cannot be published: " + problem, nameof(message));
        }
    }
}

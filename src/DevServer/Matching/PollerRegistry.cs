using System.Collections.Concurrent;
using Google.Protobuf.WellKnownTypes;
using Temporalio.Api.Enums.V1;
using Temporalio.Api.TaskQueue.V1;

namespace AgentOrchestrator.DevServer.Matching;

/// <summary>
/// Who polled which task queue and when, for DescribeTaskQueue (the UI's task-queue page and its "no workers"
/// warning). Like Temporal, a poller is listed for a while after its last poll and then forgotten; a sticky queue
/// poll counts for the worker's normal queue.
/// </summary>
internal sealed class PollerRegistry(TimeProvider time)
{
    /// <summary>Temporal's matching service keeps pollers for five minutes after their last poll.</summary>
    private static readonly TimeSpan s_keep = TimeSpan.FromMinutes(5);

    private readonly ConcurrentDictionary<(string Namespace, string TaskQueue, TaskQueueType Type), ConcurrentDictionary<string, DateTimeOffset>> _pollers = new();

    public void Record(string ns, TaskQueue? taskQueue, TaskQueueType type, string identity, DateTimeOffset now)
    {
        if (taskQueue is null)
        {
            return;
        }
        var name = taskQueue.Kind == TaskQueueKind.Sticky && !string.IsNullOrEmpty(taskQueue.NormalName) ? taskQueue.NormalName : taskQueue.Name;
        _pollers.GetOrAdd((ns, name, type), static _ => new(StringComparer.Ordinal))[identity ?? string.Empty] = now;
    }

    public IEnumerable<PollerInfo> Describe(string ns, string taskQueue, TaskQueueType type)
    {
        if (!_pollers.TryGetValue((ns, taskQueue, type), out var identities))
        {
            return [];
        }
        var cutoff = time.GetUtcNow() - s_keep;
        var result = new List<PollerInfo>();
        foreach (var (identity, lastAccess) in identities)
        {
            if (lastAccess < cutoff)
            {
                identities.TryRemove(new KeyValuePair<string, DateTimeOffset>(identity, lastAccess));
                continue;
            }
            result.Add(new PollerInfo { Identity = identity, LastAccessTime = Timestamp.FromDateTimeOffset(lastAccess), RatePerSecond = 100_000 });
        }
        return result;
    }
}

using System.Text.Json;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace AgentOrchestrator.Tenancy;

/// <summary>
/// Runtime overrides in Redis (Tenancy:Store = Redis), shared by every gateway and worker: one hash, a JSON document per
/// tenant. A change and its announcement on the pub/sub channel happen in one Lua script, so no process can miss a
/// stored change's notice while Redis is up; a process that was cut off catches up through its periodic refresh.
/// </summary>
public sealed class RedisTenantPolicyStore(TenancyRedis redis, ILogger<RedisTenantPolicyStore> logger)
    : ITenantPolicyStore, ITenantPolicyChangeNotifications
{
    public const string PoliciesKey = "agentorchestrator:tenancy:policies";
    public const string ChangesChannelName = "agentorchestrator:tenancy:policy-changes";

    private static readonly RedisChannel ChangesChannel = RedisChannel.Literal(ChangesChannelName);

    private const string SetScript = """
        redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
        redis.call('PUBLISH', ARGV[3], ARGV[1])
        return 1
        """;

    private const string RemoveScript = """
        local removed = redis.call('HDEL', KEYS[1], ARGV[1])
        if removed > 0 then redis.call('PUBLISH', ARGV[2], ARGV[1]) end
        return removed
        """;

    public async Task<IReadOnlyDictionary<string, TenantPolicy>> GetAllAsync(CancellationToken cancellationToken)
    {
        var entries = await CallAsync(async () => await (await redis.GetDatabaseAsync().ConfigureAwait(false))
            .HashGetAllAsync(PoliciesKey).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
        var policies = new Dictionary<string, TenantPolicy>(entries.Length, StringComparer.Ordinal);
        foreach (var entry in entries)
        {
            var tenant = entry.Name.ToString();
            try
            {
                if (JsonSerializer.Deserialize(entry.Value.ToString(), TenancyJsonContext.Default.TenantPolicy) is { } policy)
                {
                    policies[tenant] = policy;
                }
            }
            catch (JsonException e)
            {
                // Written by hand or by another version: the tenant falls back to configuration, and an operator is told.
                TenancyLog.UnreadableOverride(logger, tenant, e.Message);
            }
        }
        return policies;
    }

    public Task SetAsync(string tenant, TenantPolicy policy, CancellationToken cancellationToken)
    {
        var json = JsonSerializer.Serialize(policy, TenancyJsonContext.Default.TenantPolicy);
        return CallAsync(async () => await (await redis.GetDatabaseAsync().ConfigureAwait(false))
            .ScriptEvaluateAsync(SetScript, [PoliciesKey], [tenant, json, ChangesChannelName]).ConfigureAwait(false), cancellationToken);
    }

    public async Task<bool> RemoveAsync(string tenant, CancellationToken cancellationToken)
    {
        var removed = await CallAsync(async () => await (await redis.GetDatabaseAsync().ConfigureAwait(false))
            .ScriptEvaluateAsync(RemoveScript, [PoliciesKey], [tenant, ChangesChannelName]).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
        return (long)removed > 0;
    }

    public Task SubscribeAsync(Action changed, CancellationToken cancellationToken) =>
        // The multiplexer re-subscribes by itself after a reconnect.
        CallAsync(async () => await (await redis.GetSubscriberAsync().ConfigureAwait(false))
            .SubscribeAsync(ChangesChannel, (_, _) => changed()).ConfigureAwait(false), cancellationToken);

    private static async Task CallAsync(Func<Task> call, CancellationToken cancellationToken) =>
        await CallAsync(async () =>
        {
            await call().ConfigureAwait(false);
            return true;
        }, cancellationToken).ConfigureAwait(false);

    private static async Task<T> CallAsync<T>(Func<Task<T>> call, CancellationToken cancellationToken)
    {
        try
        {
            return await call().WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (TenancyRedis.IsUnavailable(e))
        {
            throw new TenantPolicyStoreUnavailableException($"The tenant policy store (Redis) is unreachable: {e.Message}", e);
        }
    }
}

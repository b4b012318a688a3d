using System.Globalization;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace AgentOrchestrator.Tenancy.Budgets;

/// <summary>
/// The budget shared by every worker process (Tenancy:Store = Redis): each operation is one Lua script, so admission
/// and settlement are atomic across processes, and the clock is Redis's own (TIME), so workers' clock skew does not
/// matter. Keys carry the tenant in a hash tag ("ao:budget:{acme}:bucket"): a tenant's keys live together and no
/// tenant's call ever touches another tenant's keys. Redis errors surface to the caller (<see cref="ModelBudget"/>
/// degrades on them).
/// </summary>
public sealed class RedisModelBudgetStore(TenancyRedis redis, IOptionsMonitor<ModelBudgetOptions> options) : IModelBudgetStore
{
    // Shared by the scripts: now in ms from Redis's clock, and a bucket refilled to now (starts full, may be in debt).
    private const string Prelude = """
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        local function refill(key, field, atField, limit, period)
          local level = tonumber(redis.call('HGET', key, field))
          if level == nil then return limit end
          local at = tonumber(redis.call('HGET', key, atField)) or now
          return math.min(limit, level + math.max(0, now - at) * limit / period)
        end

        """;

    // KEYS: bucket, reservation, slots, stats. ARGV: callId, tokens, cost, tokens/min|'', cost/h|'', max slots|'',
    // fail (1|0), lease ms, slot retry ms, reservation grace ms. Returns {outcome, reason, wait ms}.
    private const string AdmitScript = Prelude + """
        local tpm = tonumber(ARGV[4])
        local cph = tonumber(ARGV[5])
        local maxSlots = tonumber(ARGV[6])
        local grace = tonumber(ARGV[10])
        local readyAt = now
        local reason = ''
        local held = redis.call('HMGET', KEYS[2], 'readyAt', 'reason')
        if held[1] then
          readyAt = tonumber(held[1])
          reason = held[2] or ''
        else
          local est = tonumber(ARGV[2])
          local estCost = tonumber(ARGV[3])
          local tok, cost
          local tokShort, costShort = false, false
          if tpm then
            tok = refill(KEYS[1], 'tok', 'tokAt', tpm, 60000)
            tokShort = tok < est
          end
          if cph then
            cost = refill(KEYS[1], 'cost', 'costAt', cph, 3600000)
            costShort = cost < estCost
          end
          if ARGV[7] == '1' and (tokShort or costShort) then
            if tokShort then return {'reject', 'token_budget', '0'} end
            return {'reject', 'cost_budget', '0'}
          end
          if tokShort then
            readyAt = now + math.ceil((est - tok) / (tpm / 60000))
            reason = 'token_budget'
          end
          if costShort then
            local at = now + math.ceil((estCost - cost) / (cph / 3600000))
            if at > readyAt then
              readyAt = at
              reason = 'cost_budget'
            end
          end
          if tpm then redis.call('HSET', KEYS[1], 'tok', tok - est, 'tokAt', now) end
          if cph then redis.call('HSET', KEYS[1], 'cost', cost - estCost, 'costAt', now) end
          if tpm or cph then redis.call('PEXPIRE', KEYS[1], 7200000) end
        end
        if readyAt > now then
          redis.call('HSET', KEYS[2], 'readyAt', readyAt, 'reason', reason)
          redis.call('PEXPIRE', KEYS[2], readyAt - now + grace)
          redis.call('HINCRBY', KEYS[4], 'waits', 1)
          return {'wait', reason, tostring(readyAt - now)}
        end
        redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
        if maxSlots and not redis.call('ZSCORE', KEYS[3], ARGV[1]) and redis.call('ZCARD', KEYS[3]) >= maxSlots then
          redis.call('HSET', KEYS[2], 'readyAt', now, 'reason', '')
          redis.call('PEXPIRE', KEYS[2], grace)
          redis.call('HINCRBY', KEYS[4], 'waits', 1)
          return {'wait', 'model_concurrency', ARGV[9]}
        end
        redis.call('ZADD', KEYS[3], now + tonumber(ARGV[8]), ARGV[1])
        redis.call('PEXPIRE', KEYS[3], tonumber(ARGV[8]) * 2)
        redis.call('DEL', KEYS[2])
        return {'ok', '', '0'}
        """;

    // KEYS: bucket, slots, tokens by 10 s slot, cost by minute. ARGV: callId, token correction, cost correction,
    // tokens/min|'', cost/h|'', actual tokens, actual cost.
    private const string SettleScript = Prelude + """
        local tpm = tonumber(ARGV[4])
        local cph = tonumber(ARGV[5])
        if tpm then
          redis.call('HSET', KEYS[1], 'tok', refill(KEYS[1], 'tok', 'tokAt', tpm, 60000) - tonumber(ARGV[2]), 'tokAt', now)
        end
        if cph then
          redis.call('HSET', KEYS[1], 'cost', refill(KEYS[1], 'cost', 'costAt', cph, 3600000) - tonumber(ARGV[3]), 'costAt', now)
        end
        redis.call('ZREM', KEYS[2], ARGV[1])
        local ts = math.floor(now / 10000)
        local cs = math.floor(now / 60000)
        redis.call('HINCRBY', KEYS[3], ts, ARGV[6])
        redis.call('HINCRBYFLOAT', KEYS[4], cs, ARGV[7])
        if redis.call('HLEN', KEYS[3]) > 8 then
          for _, f in ipairs(redis.call('HKEYS', KEYS[3])) do
            if tonumber(f) <= ts - 6 then redis.call('HDEL', KEYS[3], f) end
          end
        end
        if redis.call('HLEN', KEYS[4]) > 62 then
          for _, f in ipairs(redis.call('HKEYS', KEYS[4])) do
            if tonumber(f) <= cs - 60 then redis.call('HDEL', KEYS[4], f) end
          end
        end
        redis.call('PEXPIRE', KEYS[3], 120000)
        redis.call('PEXPIRE', KEYS[4], 7200000)
        return 1
        """;

    // KEYS: slots. ARGV: callId, lease ms.
    private const string RenewScript = Prelude + """
        redis.call('ZADD', KEYS[1], 'XX', now + tonumber(ARGV[2]), ARGV[1])
        redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]) * 2)
        return 1
        """;

    // KEYS: slots, tokens by slot, cost by minute, stats. Returns {tokens last minute, cost last hour, in flight, waits}.
    private const string UsageScript = Prelude + """
        local ts = math.floor(now / 10000)
        local cs = math.floor(now / 60000)
        local tokens = 0
        local fields = redis.call('HGETALL', KEYS[2])
        for i = 1, #fields, 2 do
          if tonumber(fields[i]) > ts - 6 then tokens = tokens + tonumber(fields[i + 1]) end
        end
        local cost = 0
        fields = redis.call('HGETALL', KEYS[3])
        for i = 1, #fields, 2 do
          if tonumber(fields[i]) > cs - 60 then cost = cost + tonumber(fields[i + 1]) end
        end
        local inFlight = redis.call('ZCOUNT', KEYS[1], '(' .. now, '+inf')
        local waits = redis.call('HGET', KEYS[4], 'waits') or '0'
        return {tostring(tokens), tostring(cost), tostring(inFlight), waits}
        """;

    public async Task<Admission> AdmitAsync(ModelCallRequest request, BudgetLimits limits, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(limits);
        ModelBudgetOptions o = options.CurrentValue;
        IDatabase db = await redis.GetDatabaseAsync().ConfigureAwait(false);
        var result = (RedisResult[])(await db.ScriptEvaluateAsync(AdmitScript,
            [Key(o, request.Tenant, "bucket"), Key(o, request.Tenant, "res:" + request.CallId), Key(o, request.Tenant, "slots"), Key(o, request.Tenant, "stats")],
            [
                request.CallId,
                request.EstimatedTokens,
                Number(request.EstimatedCost),
                Limit(limits.TokensPerMinute),
                limits.CostPerHour is { } cost ? Number(cost) : string.Empty,
                Limit(limits.MaxConcurrentCalls),
                limits.OverBudget == OverBudgetBehavior.Fail ? "1" : "0",
                (long)o.SlotLease.TotalMilliseconds,
                (long)o.SlotRetryDelay.TotalMilliseconds,
                (long)o.ReservationGrace.TotalMilliseconds,
            ]).ConfigureAwait(false))!;
        string outcome = result[0].ToString();
        BudgetReason reason = ReasonOf(result[1].ToString());
        TimeSpan wait = TimeSpan.FromMilliseconds(double.Parse(result[2].ToString(), CultureInfo.InvariantCulture));
        return outcome switch
        {
            "ok" => Admission.Admitted,
            "wait" => new Admission(AdmissionOutcome.Wait, reason, wait),
            "reject" => new Admission(AdmissionOutcome.Rejected, reason, TimeSpan.Zero),
            _ => throw new InvalidOperationException($"Unexpected budget script outcome '{outcome}'."),
        };
    }

    public async Task SettleAsync(ModelCallRequest request, BudgetLimits limits, long actualTokens, decimal actualCost, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(limits);
        ModelBudgetOptions o = options.CurrentValue;
        IDatabase db = await redis.GetDatabaseAsync().ConfigureAwait(false);
        await db.ScriptEvaluateAsync(SettleScript,
            [Key(o, request.Tenant, "bucket"), Key(o, request.Tenant, "slots"), Key(o, request.Tenant, "used:tokens"), Key(o, request.Tenant, "used:cost")],
            [
                request.CallId,
                actualTokens - request.EstimatedTokens,
                Number(actualCost - request.EstimatedCost),
                Limit(limits.TokensPerMinute),
                limits.CostPerHour is { } cost ? Number(cost) : string.Empty,
                actualTokens,
                Number(actualCost),
            ]).ConfigureAwait(false);
    }

    public async Task RenewAsync(ModelCallRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ModelBudgetOptions o = options.CurrentValue;
        IDatabase db = await redis.GetDatabaseAsync().ConfigureAwait(false);
        await db.ScriptEvaluateAsync(RenewScript, [Key(o, request.Tenant, "slots")],
            [request.CallId, (long)o.SlotLease.TotalMilliseconds]).ConfigureAwait(false);
    }

    public async Task<BudgetUsage> UsageAsync(string tenant, CancellationToken cancellationToken)
    {
        ModelBudgetOptions o = options.CurrentValue;
        IDatabase db = await redis.GetDatabaseAsync().ConfigureAwait(false);
        var result = (RedisResult[])(await db.ScriptEvaluateAsync(UsageScript,
            [Key(o, tenant, "slots"), Key(o, tenant, "used:tokens"), Key(o, tenant, "used:cost"), Key(o, tenant, "stats")]).ConfigureAwait(false))!;
        return new BudgetUsage(
            (long)double.Parse(result[0].ToString(), CultureInfo.InvariantCulture),
            decimal.Parse(result[1].ToString(), NumberStyles.Float, CultureInfo.InvariantCulture),
            int.Parse(result[2].ToString(), CultureInfo.InvariantCulture),
            long.Parse(result[3].ToString(), CultureInfo.InvariantCulture));
    }

    private static RedisKey Key(ModelBudgetOptions o, string tenant, string suffix) => $"{o.KeyPrefix}:{{{tenant}}}:{suffix}";

    private static RedisValue Limit(long? limit) => limit is { } value ? value : string.Empty;

    private static RedisValue Limit(int? limit) => limit is { } value ? value : string.Empty;

    private static string Number(decimal value) => value.ToString(CultureInfo.InvariantCulture);

    private static BudgetReason ReasonOf(string reason) => reason switch
    {
        BudgetReasons.TokenBudget => BudgetReason.TokenBudget,
        BudgetReasons.CostBudget => BudgetReason.CostBudget,
        BudgetReasons.ModelConcurrency => BudgetReason.ModelConcurrency,
        _ => BudgetReason.None,
    };
}

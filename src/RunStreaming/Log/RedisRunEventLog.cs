using System.Globalization;
using System.Text.Json;
using AgentOrchestrator.Contracts;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace AgentOrchestrator.RunStreaming.Log;

/// <summary>
/// The run-event log in Redis (RunEvents:Log:Store = Redis), shared by every worker and gateway. Per run one hash
/// ("{prefix}{tenant/tenant/run/run}": epoch, head, and one field per sequence number holding the message's JSON) and
/// one hash of compacted steps (field "first:last" sequence numbers). An append is one Lua script (so one round trip
/// that assigns the number, stores the message and applies a compaction atomically); both keys expire
/// <see cref="RunEventLogOptions.Retention"/> after the last append. The braces are a hash tag: a run's keys share a
/// cluster slot.
/// </summary>
internal sealed class RedisRunEventLog(RunEventLogRedis redis, IOptions<RunEventLogOptions> options) : IRunEventLog
{
    // Entries read per script call (Lua's unpack is limited to a few thousand values).
    internal const int ReadBatch = 2000;

    // KEYS: log, compactions. ARGV: epoch if new, message, ttl s, compaction|'', its epoch, its field, token seqs...
    // Returns {epoch, seq}.
    private const string AppendScript = """
        local epoch = redis.call('HGET', KEYS[1], 'epoch')
        if not epoch then
          epoch = ARGV[1]
          redis.call('HSET', KEYS[1], 'epoch', epoch)
          redis.call('DEL', KEYS[2])
        end
        local seq = redis.call('HINCRBY', KEYS[1], 'head', 1)
        redis.call('HSET', KEYS[1], tostring(seq), ARGV[2])
        if ARGV[4] ~= '' and ARGV[5] == epoch then
          redis.call('HSET', KEYS[2], ARGV[6], ARGV[4])
          for i = 7, #ARGV do redis.call('HDEL', KEYS[1], ARGV[i]) end
        end
        redis.call('EXPIRE', KEYS[1], ARGV[3])
        redis.call('EXPIRE', KEYS[2], ARGV[3])
        return {epoch, seq}
        """;

    // KEYS: log, compactions. ARGV: from, max count. Returns {} (no log) or {epoch, head, to, value(from)..value(to),
    // compaction...}: a compacted sequence number's value is '' and the compactions overlapping [from, to] follow.
    private const string ReadScript = """
        local meta = redis.call('HMGET', KEYS[1], 'epoch', 'head')
        if not meta[1] then return {} end
        local head = tonumber(meta[2])
        local from = tonumber(ARGV[1])
        local to = math.min(head, from + tonumber(ARGV[2]) - 1)
        local result = {meta[1], tostring(head), tostring(to)}
        if from > to then return result end
        local fields = {}
        for s = from, to do fields[#fields + 1] = tostring(s) end
        local values = redis.call('HMGET', KEYS[1], unpack(fields))
        local missing = false
        for i = 1, #fields do
          local value = values[i]
          if not value then
            missing = true
            value = ''
          end
          result[#result + 1] = value
        end
        if missing then
          for _, name in ipairs(redis.call('HKEYS', KEYS[2])) do
            local sep = string.find(name, ':', 1, true)
            local first = tonumber(string.sub(name, 1, sep - 1))
            local last = tonumber(string.sub(name, sep + 1))
            if last >= from and first <= to then
              result[#result + 1] = redis.call('HGET', KEYS[2], name)
            end
          end
        end
        return result
        """;

    public ValueTask<RunLogPosition> AppendAsync(RunEventsPublished message, StepCompaction? compaction, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        var settings = options.Value;
        var (log, compactions) = Keys(settings, message.TenantId, message.RunId);
        var payload = JsonSerializer.SerializeToUtf8Bytes(message, RunStreamingJsonContext.Default.RunEventsPublished);
        var ttl = (long)Math.Ceiling(settings.Retention.TotalSeconds);
        RedisValue[] args;
        if (compaction is not null && settings.CompactFinishedAttempts && CompactedSteps.IsValid(message, compaction))
        {
            var (first, last) = CompactedSteps.SeqRange(compaction);
            args = new RedisValue[6 + compaction.Tokens.Count];
            args[3] = JsonSerializer.SerializeToUtf8Bytes(compaction, RunStreamingJsonContext.Default.StepCompaction);
            args[4] = compaction.Epoch;
            args[5] = CompactionField(first, last);
            for (var i = 0; i < compaction.Tokens.Count; i++)
            {
                args[6 + i] = compaction.Tokens[i].Seq;
            }
        }
        else
        {
            args = new RedisValue[6];
            args[3] = string.Empty;
            args[4] = string.Empty;
            args[5] = string.Empty;
        }
        args[0] = Guid.NewGuid().ToString("N");
        args[1] = payload;
        args[2] = ttl;
        // Issued before the first await: appends started one after another reach Redis, and get numbers, in that order.
        var pending = redis.Database.ScriptEvaluateAsync(AppendScript, [log, compactions], args);
        return AwaitPosition(pending);

        static async ValueTask<RunLogPosition> AwaitPosition(Task<RedisResult> pending)
        {
            var result = (RedisResult[])(await pending.ConfigureAwait(false))!;
            return new RunLogPosition((string)result[0]!, (long)result[1]);
        }
    }

    public async ValueTask<RunLogSlice> ReadAsync(string tenantId, string runId, long fromSeq, CancellationToken cancellationToken)
    {
        var (log, compactions) = Keys(options.Value, tenantId, runId);
        var from = Math.Max(1, fromSeq);
        string? epoch = null;
        long head = 0;
        var entries = new List<RunLogEntry>();
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var result = (RedisResult[])(await redis.Database.ScriptEvaluateAsync(ReadScript, [log, compactions], [from, ReadBatch]).ConfigureAwait(false))!;
            if (result.Length == 0)
            {
                return epoch is null ? RunLogSlice.None : new RunLogSlice(epoch, head, entries);
            }
            var readEpoch = (string)result[0]!;
            if (epoch is not null && readEpoch != epoch)
            {
                // The log was replaced between two batches: what was read belongs to an epoch that is gone; start over.
                entries.Clear();
                from = Math.Max(1, fromSeq);
                epoch = null;
                continue;
            }
            epoch = readEpoch;
            head = long.Parse((string)result[1]!, CultureInfo.InvariantCulture);
            var to = long.Parse((string)result[2]!, CultureInfo.InvariantCulture);
            var count = (int)Math.Max(0, to - from + 1);
            Dictionary<long, (StepCompaction, int)>? compacted = null;
            for (var i = 0; i < count; i++)
            {
                var seq = from + i;
                var value = (byte[]?)result[3 + i];
                if (value is { Length: > 0 })
                {
                    entries.Add(new RunLogEntry(seq, JsonSerializer.Deserialize(value, RunStreamingJsonContext.Default.RunEventsPublished)
                        ?? throw new InvalidDataException($"Run log entry {seq} of {runId} is null.")));
                    continue;
                }
                compacted ??= Compacted(result, 3 + count);
                if (compacted.TryGetValue(seq, out var token))
                {
                    entries.Add(new RunLogEntry(seq, CompactedSteps.Token(tenantId, runId, token.Item1, token.Item2)));
                }
            }
            if (to >= head)
            {
                return new RunLogSlice(epoch, head, entries);
            }
            from = to + 1;
        }
    }

    private static Dictionary<long, (StepCompaction, int)> Compacted(RedisResult[] result, int start)
    {
        var bySeq = new Dictionary<long, (StepCompaction, int)>();
        for (var i = start; i < result.Length; i++)
        {
            var compaction = JsonSerializer.Deserialize((byte[])result[i]!, RunStreamingJsonContext.Default.StepCompaction);
            if (compaction is null)
            {
                continue;
            }
            for (var k = 0; k < compaction.Tokens.Count; k++)
            {
                bySeq[compaction.Tokens[k].Seq] = (compaction, k);
            }
        }
        return bySeq;
    }

    private static string CompactionField(long first, long last) =>
        first.ToString(CultureInfo.InvariantCulture) + ":" + last.ToString(CultureInfo.InvariantCulture);

    private static (RedisKey Log, RedisKey Compactions) Keys(RunEventLogOptions options, string tenantId, string runId)
    {
        var tag = "{" + RunWorkflowIds.For(tenantId, runId) + "}";
        return (options.KeyPrefix + tag, options.KeyPrefix + tag + ":steps");
    }
}

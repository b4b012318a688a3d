using System.Collections.Concurrent;
using System.Threading.Channels;
using AgentOrchestrator.Contracts;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AgentOrchestrator.RunStreaming.Live;

/// <summary>
/// Live entries within one process (the embedded host): publishes go into one queue that a single loop hands to the
/// gateway's feed in publish order, so a publisher never runs the gateway's fan-out on its own thread.
/// </summary>
internal sealed partial class InMemoryRunEventLiveBus(ILogger<InMemoryRunEventLiveBus> logger)
    : BackgroundService, IRunEventLivePublisher, IRunEventLiveSource
{
    private readonly Channel<RunLogAppended> _queue = Channel.CreateUnbounded<RunLogAppended>(
        new UnboundedChannelOptions { SingleReader = true, SingleWriter = false, AllowSynchronousContinuations = false });

    private readonly ConcurrentDictionary<string, int> _watched = new(StringComparer.Ordinal);

    public event Action<RunLogAppended>? Appended;

    public event Action? Reconnected
    {
        add { }
        remove { }
    }

    public bool IsConnected => true;

    public string Transport => "in-process";

    public ValueTask PublishAsync(RunLogAppended appended, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(appended);
        _queue.Writer.TryWrite(appended);
        return ValueTask.CompletedTask;
    }

    public ValueTask WatchAsync(string tenantId, string runId, CancellationToken cancellationToken)
    {
        _watched.AddOrUpdate(RunWorkflowIds.For(tenantId, runId), 1, (_, count) => count + 1);
        return ValueTask.CompletedTask;
    }

    public ValueTask UnwatchAsync(string tenantId, string runId, CancellationToken cancellationToken)
    {
        var key = RunWorkflowIds.For(tenantId, runId);
        while (_watched.TryGetValue(key, out var count))
        {
            if (count <= 1 ? _watched.TryRemove(new KeyValuePair<string, int>(key, count)) : _watched.TryUpdate(key, count - 1, count))
            {
                break;
            }
        }
        return ValueTask.CompletedTask;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var reader = _queue.Reader;
        try
        {
            while (await reader.WaitToReadAsync(stoppingToken).ConfigureAwait(false))
            {
                while (reader.TryRead(out var appended))
                {
                    if (!_watched.ContainsKey(RunWorkflowIds.For(appended.Message.TenantId, appended.Message.RunId)))
                    {
                        continue;
                    }
                    try
                    {
                        Appended?.Invoke(appended);
                    }
                    catch (Exception e)
                    {
                        // The feed keeps the entry's place: it fills the gap from the log when the next entry arrives.
                        HandlerFailed(logger, e, appended.Message.RunId, appended.Seq);
                    }
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Run events: handling live entry {Seq} of run {RunId} failed; it will be read from the log")]
    private static partial void HandlerFailed(ILogger logger, Exception exception, string runId, long seq);
}

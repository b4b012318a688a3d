using Microsoft.Extensions.Logging;

namespace AgentOrchestrator.Client;

/// <summary>
/// Tells the gateway, at most once per interval and once at the end, the id of the last event the consumer has
/// processed (hub Ack(runId, cursor) or a /v1/ws ack message). Best effort by design: a failed ack (an older gateway without the
/// method, a connection being replaced) is logged and never disturbs the stream; the next ack carries a later cursor.
/// </summary>
internal sealed class AckBatcher : IAsyncDisposable
{
    private static readonly TimeSpan FinalAckTimeout = TimeSpan.FromSeconds(5);
    private readonly string _runId;
    private readonly IRunEventChannel _channel;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private readonly SemaphoreSlim _sendGate = new(1, 1);
    private string? _processed;
    private string? _sent;
    private bool _warned;

    public AckBatcher(string runId, TimeSpan interval, IRunEventChannel channel, ILogger logger)
    {
        _runId = runId;
        _channel = channel;
        _logger = logger;
        _loop = RunAsync(interval, _stop.Token);
    }

    /// <summary>The consumer is done with <paramref name="eventId"/> (and every event before it).</summary>
    public void Processed(string eventId) => Volatile.Write(ref _processed, eventId);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        using var timeout = new CancellationTokenSource(FinalAckTimeout);
        await SendAsync(timeout.Token);
        _stop.Dispose();
        _sendGate.Dispose();
    }

    private async Task RunAsync(TimeSpan interval, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(interval);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                await SendAsync(cancellationToken);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Stopped: DisposeAsync sends the final ack.
        }
    }

    private async Task SendAsync(CancellationToken cancellationToken)
    {
        await _sendGate.WaitAsync(CancellationToken.None);
        try
        {
            var cursor = Volatile.Read(ref _processed);
            if (cursor is null || cursor == _sent)
            {
                return;
            }
            // Marked sent before the call: a failure is not retried with the same cursor; the next one supersedes it.
            _sent = cursor;
            try
            {
                if (_channel.AckAsync(_runId, cursor, cancellationToken) is not { } sending)
                {
                    _sent = null; // no connection now: the next tick tries again
                    return;
                }
                await sending;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                // Interrupted by shutdown, not refused: the final ack sends this cursor again.
                _sent = null;
            }
            catch (Exception e)
            {
                if (!_warned)
                {
                    _warned = true;
                    ClientLog.AckFailed(_logger, e, _runId, cursor);
                }
                else
                {
                    ClientLog.AckFailedAgain(_logger, _runId, cursor, e.Message);
                }
            }
        }
        finally
        {
            _sendGate.Release();
        }
    }
}

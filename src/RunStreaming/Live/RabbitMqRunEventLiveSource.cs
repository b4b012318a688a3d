using System.Collections.Concurrent;
using System.Text.Json;
using AgentOrchestrator.Contracts;
using AgentOrchestrator.Messaging;
using AgentOrchestrator.RunStreaming.Log;
using AgentOrchestrator.RunStreaming.Telemetry;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;

namespace AgentOrchestrator.RunStreaming.Live;

/// <summary>
/// A gateway's live entries over RabbitMQ: one exclusive, server-named queue of its own, bound to the live exchange
/// only for the runs its subscribers watch (routing key = the run's workflow id), consumed without acks (a lost
/// message is a gap the feed fills from the log). After a lost connection it reconnects with backoff, binds every
/// watched run again and raises <see cref="Reconnected"/> so the feed reads what it missed from the log.
/// </summary>
internal sealed partial class RabbitMqRunEventLiveSource(IOptions<MessageBusOptions> bus, IOptions<RunEventLiveOptions> options,
    RunEventPathMetrics metrics, TimeProvider time, ILogger<RabbitMqRunEventLiveSource> logger) : BackgroundService, IRunEventLiveSource
{
    private readonly ConcurrentDictionary<string, byte> _watched = new(StringComparer.Ordinal);
    // Channel RPCs (bind, unbind) one at a time; deliveries do not wait for it.
    private readonly SemaphoreSlim _rpcGate = new(1, 1);
    private volatile Session? _session;

    public event Action<RunLogAppended>? Appended;

    public event Action? Reconnected;

    public bool IsConnected => _session is { Channel.IsOpen: true };

    public string Transport => "rabbitmq";

    public async ValueTask WatchAsync(string tenantId, string runId, CancellationToken cancellationToken)
    {
        var key = RunWorkflowIds.For(tenantId, runId);
        _watched[key] = 0;
        await BindAsync(key, bind: true, cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask UnwatchAsync(string tenantId, string runId, CancellationToken cancellationToken)
    {
        var key = RunWorkflowIds.For(tenantId, runId);
        if (_watched.TryRemove(key, out _))
        {
            await BindAsync(key, bind: false, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task BindAsync(string key, bool bind, CancellationToken cancellationToken)
    {
        if (_session is not { } session)
        {
            return; // bound when the connection is made; what is sent meanwhile is read from the log after Reconnected
        }
        await _rpcGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (bind)
            {
                await session.Channel.QueueBindAsync(session.Queue, options.Value.Exchange, key, cancellationToken: cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await session.Channel.QueueUnbindAsync(session.Queue, options.Value.Exchange, key, cancellationToken: cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The connection is going: the reconnect binds every watched run again and the feed catches up from the log.
            BindFailed(logger, e, key);
            session.End(e);
        }
        finally
        {
            _rpcGate.Release();
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var uri = bus.Value.RabbitMqUri ?? throw new InvalidOperationException("Bus:RabbitMqUri is required when Bus:Transport is RabbitMq.");
        var failures = 0;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await RunSessionAsync(uri, () => failures = 0, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e)
            {
                _session = null;
                var settings = options.Value;
                var ceiling = Math.Min(settings.ReconnectMaxDelay.TotalMilliseconds, settings.ReconnectMinDelay.TotalMilliseconds * Math.Pow(2, Math.Min(failures++, 30)));
                // Full jitter: gateways that lost the broker together must not come back in lockstep.
                var delay = TimeSpan.FromMilliseconds(Random.Shared.NextDouble() * ceiling);
                Disconnected(logger, e, delay);
                metrics.LiveReconnected();
                await Task.Delay(delay, time, stoppingToken).ConfigureAwait(false);
            }
        }
        _session = null;
    }

    private async Task RunSessionAsync(Uri uri, Action connected, CancellationToken stoppingToken)
    {
        var factory = new ConnectionFactory
        {
            Uri = uri,
            ClientProvidedName = "gateway-run-event-live",
            // Recovery is ours: the queue is new after a reconnect and every watched run must be bound to it again.
            AutomaticRecoveryEnabled = false,
            TopologyRecoveryEnabled = false,
            RequestedHeartbeat = TimeSpan.FromSeconds(10),
        };
        await using var connection = await factory.CreateConnectionAsync(stoppingToken).ConfigureAwait(false);
        await using var channel = await connection.CreateChannelAsync(cancellationToken: stoppingToken).ConfigureAwait(false);
        var settings = options.Value;
        await RunEventLiveTopology.DeclareAsync(channel, settings, stoppingToken).ConfigureAwait(false);
        var queue = await RunEventLiveTopology.DeclareGatewayQueueAsync(channel, settings, stoppingToken).ConfigureAwait(false);
        var session = new Session(channel, queue);
        connection.ConnectionShutdownAsync += (_, reason) => session.EndAsync(new IOException($"connection closed: {reason.ReplyCode} {reason.ReplyText}"));
        channel.ChannelShutdownAsync += (_, reason) => session.EndAsync(new IOException($"channel closed: {reason.ReplyCode} {reason.ReplyText}"));

        var consumer = new AsyncEventingBasicConsumer(channel);
        consumer.ReceivedAsync += (_, delivery) =>
        {
            Deliver(delivery);
            return Task.CompletedTask;
        };
        await channel.BasicConsumeAsync(queue, autoAck: true, consumer, stoppingToken).ConfigureAwait(false);

        await _rpcGate.WaitAsync(stoppingToken).ConfigureAwait(false);
        try
        {
            foreach (var key in _watched.Keys)
            {
                await channel.QueueBindAsync(queue, settings.Exchange, key, cancellationToken: stoppingToken).ConfigureAwait(false);
            }
            _session = session;
        }
        finally
        {
            _rpcGate.Release();
        }
        connected();
        Connected(logger, queue, _watched.Count);
        Reconnected?.Invoke();

        var ended = await session.Ended.WaitAsync(stoppingToken).ConfigureAwait(false);
        throw ended;
    }

    private void Deliver(BasicDeliverEventArgs delivery)
    {
        RunEventsPublished? message = null;
        Exception? failure = null;
        if (RunLogAppendedHeaders.TryRead(delivery.BasicProperties.Headers, out var epoch, out var seq))
        {
            try
            {
                message = JsonSerializer.Deserialize(delivery.Body.Span, RunStreamingJsonContext.Default.RunEventsPublished);
            }
            catch (JsonException e)
            {
                failure = e;
            }
        }
        if (message is null)
        {
            // The entry's authoritative copy is in the log: the gap this leaves is filled from there.
            metrics.LiveUnreadable();
            UnreadableMessage(logger, failure, delivery.RoutingKey);
            return;
        }
        metrics.LiveReceived();
        Appended?.Invoke(new RunLogAppended(epoch, seq, message, RunLogAppendedHeaders.ReadTraceParent(delivery.BasicProperties.Headers)));
    }

    /// <summary>One connection's channel and queue; ends (once) when the connection or channel closes.</summary>
    private sealed class Session(IChannel channel, string queue)
    {
        private readonly TaskCompletionSource<Exception> _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public IChannel Channel { get; } = channel;

        public string Queue { get; } = queue;

        public Task<Exception> Ended => _ended.Task;

        public void End(Exception reason) => _ended.TrySetResult(reason);

        public Task EndAsync(Exception reason)
        {
            End(reason);
            return Task.CompletedTask;
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Run events: live queue {Queue} bound for {Runs} watched runs")]
    private static partial void Connected(ILogger logger, string queue, int runs);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Run events: lost the live connection; reconnecting in {Delay}")]
    private static partial void Disconnected(ILogger logger, Exception exception, TimeSpan delay);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Run events: binding {RoutingKey} failed; the connection is reset")]
    private static partial void BindFailed(ILogger logger, Exception exception, string routingKey);

    [LoggerMessage(Level = LogLevel.Error, Message = "Run events: a live message for {RoutingKey} has no position or is not readable; its entry will be read from the log")]
    private static partial void UnreadableMessage(ILogger logger, Exception? exception, string routingKey);
}

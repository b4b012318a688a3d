using System.Diagnostics;
using System.Text;
using AgentOrchestrator.Contracts;
using AgentOrchestrator.Messaging;
using AgentOrchestrator.RunStreaming.Ordering;
using AgentOrchestrator.RunStreaming.Telemetry;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;

namespace AgentOrchestrator.RunStreaming.Sources;

/// <summary>
/// Feeds this gateway from the run-event stream (RabbitMQ transport): every gateway reads the same stream, so all
/// see one total order and the same event ids, which makes a cursor valid on any of them. On start it reads from
/// (now - warm window) to warm its tails, then stays live; after a lost connection it resumes at the next offset.
/// Messages are handed to <see cref="IRunEventFeed.Append"/> one by one in stream order and acknowledged (flow
/// control) only after Append returned; a message that keeps failing is parked in the error queue. See docs/replay-tier.md.
/// </summary>
internal sealed partial class RunEventStreamSource(
    IRunEventFeed feed,
    RunEventStreamState state,
    RunEventStreamMetrics metrics,
    RunStreamMetrics streamMetrics,
    IOptions<MessageBusOptions> bus,
    IOptions<RunEventStreamOptions> stream,
    IOptions<RunEventStreamSourceOptions> options,
    TimeProvider time,
    ILogger<RunEventStreamSource> logger) : BackgroundService
{
    private const string OffsetHeader = "x-stream-offset";
    private static readonly ActivitySource Tracing = new("AgentOrchestrator.Gateway");
    private readonly string _instance = Environment.MachineName + "/" + Environment.ProcessId;
    private readonly string _receiveSpanName = stream.Value.Name + " receive";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var uri = bus.Value.RabbitMqUri ?? throw new InvalidOperationException("Bus:RabbitMqUri is required when Bus:Transport is RabbitMq.");
        var settings = options.Value;
        var failures = 0;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await ReadUntilDisconnectedAsync(uri, () => failures = 0, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e)
            {
                state.Disconnected();
                var delay = Backoff(failures++, settings.ReconnectMinDelay, settings.ReconnectMaxDelay);
                StreamDisconnected(logger, e, stream.Value.Name, state.LastOffset, delay);
                metrics.Reconnected();
                await Task.Delay(delay, time, stoppingToken);
            }
        }
        state.Disconnected();
    }

    /// <summary>One connection's life: declare, mark "now", consume from the right offset, return (throw) when it ends.</summary>
    private async Task ReadUntilDisconnectedAsync(Uri uri, Action connected, CancellationToken stoppingToken)
    {
        var factory = new ConnectionFactory
        {
            Uri = uri,
            ClientProvidedName = "gateway-run-event-stream",
            // Recovery is ours: the client's own would re-subscribe at the original offset, not where we stopped.
            AutomaticRecoveryEnabled = false,
            TopologyRecoveryEnabled = false,
            RequestedHeartbeat = TimeSpan.FromSeconds(10),
        };
        await using var connection = await factory.CreateConnectionAsync(stoppingToken);
        await using var channel = await connection.CreateChannelAsync(
            new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true), stoppingToken);
        var session = new Session(this, channel);
        connection.ConnectionShutdownAsync += (_, reason) => session.End(new IOException($"connection closed: {reason.ReplyCode} {reason.ReplyText}"));
        channel.ChannelShutdownAsync += (_, reason) => session.End(new IOException($"channel closed: {reason.ReplyCode} {reason.ReplyText}"));

        var streamOptions = stream.Value;
        await RunEventStreamTopology.DeclareAsync(channel, streamOptions, RunEventStreamTopology.ExchangeOf<RunEventsPublished>(), stoppingToken);
        await channel.BasicQosAsync(0, (ushort)options.Value.Prefetch, global: false, stoppingToken);

        // Everything before this marker was published before we (re)connected: once we read it, we are caught up.
        var marker = Guid.NewGuid().ToString("N");
        session.Marker = Encoding.UTF8.GetBytes(marker);
        var markerProperties = new BasicProperties { Headers = new Dictionary<string, object?> { [RunEventStreamTopology.MarkerHeader] = marker } };
        await channel.BasicPublishAsync(string.Empty, streamOptions.Name, mandatory: false, markerProperties, ReadOnlyMemory<byte>.Empty, stoppingToken);

        // Resume right after the last message handled; the first time, warm the tails from the window's start.
        object startAt = state.LastOffset >= 0
            ? state.LastOffset + 1
            : new AmqpTimestamp((time.GetUtcNow() - (options.Value.WarmWindow ?? streamOptions.MaxAge)).ToUnixTimeSeconds());
        var consumer = new AsyncEventingBasicConsumer(channel);
        consumer.ReceivedAsync += (_, delivery) => session.HandleAsync(delivery, stoppingToken);
        await channel.BasicConsumeAsync(streamOptions.Name, autoAck: false, consumerTag: string.Empty, noLocal: false, exclusive: false,
            new Dictionary<string, object?> { [OffsetHeader] = startAt }, consumer, stoppingToken);
        state.Connected();
        connected();
        StreamConnected(logger, streamOptions.Name, startAt is AmqpTimestamp from
            ? "timestamp " + DateTimeOffset.FromUnixTimeSeconds(from.UnixTime).ToString("O")
            : "offset " + startAt);

        var ended = await session.Ended.WaitAsync(stoppingToken);
        throw ended;
    }

    private static TimeSpan Backoff(int failures, TimeSpan min, TimeSpan max)
    {
        // Full jitter: many gateways losing the broker at once must not reconnect in lockstep.
        var ceiling = Math.Min(max.TotalMilliseconds, min.TotalMilliseconds * Math.Pow(2, Math.Min(failures, 30)));
        return TimeSpan.FromMilliseconds(Random.Shared.NextDouble() * ceiling);
    }

    /// <summary>State of one connection: its marker, and whether it must stop handling deliveries.</summary>
    private sealed class Session(RunEventStreamSource source, IChannel channel)
    {
        private readonly TaskCompletionSource<Exception> _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public byte[] Marker { get; set; } = [];

        public Task<Exception> Ended => _ended.Task;

        public Task End(Exception reason)
        {
            _ended.TrySetResult(reason);
            return Task.CompletedTask;
        }

        public async Task HandleAsync(BasicDeliverEventArgs delivery, CancellationToken cancellationToken)
        {
            if (_ended.Task.IsCompleted)
            {
                return; // a delivery already in flight when the session failed: it is read again after reconnecting
            }
            try
            {
                await source.HandleAsync(this, channel, delivery, cancellationToken);
            }
            catch (Exception e)
            {
                // Not handled and not parked (e.g. the error queue could not be written): stop here and reconnect, so
                // reading resumes at this message instead of skipping it.
                await End(e);
            }
        }
    }

    private async Task HandleAsync(Session session, IChannel channel, BasicDeliverEventArgs delivery, CancellationToken cancellationToken)
    {
        var headers = delivery.BasicProperties.Headers;
        var offset = headers is not null && headers.TryGetValue(OffsetHeader, out var value) && value is not null ? Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture) : -1;
        if (offset >= 0 && offset <= state.LastOffset)
        {
            // A start by timestamp begins at a chunk boundary, and a resume may overlap: already handled.
            await channel.BasicAckAsync(delivery.DeliveryTag, multiple: false, cancellationToken);
            return;
        }
        if (headers is not null && headers.TryGetValue(RunEventStreamTopology.MarkerHeader, out var marker))
        {
            if (marker is byte[] bytes && bytes.AsSpan().SequenceEqual(session.Marker))
            {
                state.CaughtUp();
                StreamCaughtUp(logger, stream.Value.Name, offset);
            }
        }
        else
        {
            // Continues the run's trace from the publisher's span (the worker activity that published the events).
            using var activity = TracingMessageHeaders.StartConsumeActivity(Tracing, _receiveSpanName, headers);
            await ProcessAsync(channel, delivery, offset, cancellationToken);
        }
        if (offset >= 0)
        {
            state.Handled(offset);
        }
        await channel.BasicAckAsync(delivery.DeliveryTag, multiple: false, cancellationToken);
    }

    /// <summary>Parse and append, retrying with exponential backoff; a message that never succeeds goes to the error queue.</summary>
    private async Task ProcessAsync(IChannel channel, BasicDeliverEventArgs delivery, long offset, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                var message = RunEventEnvelope.Parse(delivery.Body);
                // Warm-up and resume backlogs are read late on purpose: only live consumption says how far behind we are.
                feed.Append(state.IsReady ? streamMetrics.Received(message) : message);
                if (state.IsReady)
                {
                    streamMetrics.BusConsumed(message, RunStreamMetrics.StreamTransport);
                }
                return;
            }
            catch (Exception e) when (attempt < settings.ProcessingRetryLimit)
            {
                var delay = settings.ProcessingRetryMinDelay * Math.Pow(2, attempt);
                ProcessingRetry(logger, e, offset, attempt + 1, delay);
                metrics.Retried();
                await Task.Delay(delay, time, cancellationToken);
            }
            catch (Exception e)
            {
                await DeadLetterAsync(channel, delivery, offset, e, cancellationToken);
                return;
            }
        }
    }

    private async Task DeadLetterAsync(IChannel channel, BasicDeliverEventArgs delivery, long offset, Exception failure, CancellationToken cancellationToken)
    {
        var streamOptions = stream.Value;
        var headers = delivery.BasicProperties.Headers is { } original ? new Dictionary<string, object?>(original) : [];
        headers["x-failure-exception"] = failure.GetType().FullName;
        headers["x-failure-message"] = failure.Message;
        headers["x-failure-source"] = streamOptions.Name;
        headers["x-failure-offset"] = offset;
        headers["x-failure-gateway"] = _instance;
        headers["x-failure-at"] = time.GetUtcNow().ToString("O");
        var properties = new BasicProperties
        {
            Persistent = true,
            ContentType = delivery.BasicProperties.ContentType,
            MessageId = delivery.BasicProperties.MessageId,
            Headers = headers,
        };
        // Confirmed publish: if the broker does not take it this throws, the message is not acknowledged, and the
        // session reconnects to read it again; it is never dropped.
        await channel.BasicPublishAsync(string.Empty, streamOptions.ErrorQueue, mandatory: false, properties, delivery.Body, cancellationToken);
        metrics.DeadLettered();
        MessageDeadLettered(logger, failure, offset, streamOptions.Name, streamOptions.ErrorQueue);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Run events: reading RabbitMQ stream {Stream} from {StartAt}")]
    private static partial void StreamConnected(ILogger logger, string stream, string startAt);

    [LoggerMessage(Level = LogLevel.Information, Message = "Run events: caught up with stream {Stream} at offset {Offset}; ready")]
    private static partial void StreamCaughtUp(ILogger logger, string stream, long offset);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Run events: lost stream {Stream} after offset {Offset}; reconnecting in {Delay}")]
    private static partial void StreamDisconnected(ILogger logger, Exception exception, string stream, long offset, TimeSpan delay);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Run events: message at offset {Offset} failed (attempt {Attempt}); retrying in {Delay}")]
    private static partial void ProcessingRetry(ILogger logger, Exception exception, long offset, int attempt, TimeSpan delay);

    [LoggerMessage(Level = LogLevel.Error, Message = "Run events: message at offset {Offset} of stream {Stream} failed every retry; parked in {ErrorQueue}")]
    private static partial void MessageDeadLettered(ILogger logger, Exception exception, long offset, string stream, string errorQueue);
}

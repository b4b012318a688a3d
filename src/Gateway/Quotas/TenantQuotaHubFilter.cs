using System.Collections.Concurrent;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using AgentOrchestrator.Gateway.Auth;
using Microsoft.AspNetCore.SignalR;

namespace AgentOrchestrator.Gateway.Quotas;

/// <summary>
/// The tenant quota middleware for hub connections and invocations (all hubs):
/// <list type="bullet">
/// <item>MaxConnections: every connection is counted; one over the limit (a race past the HTTP check) is closed;</item>
/// <item>MaxMessageBytes: the UTF-8 size of an invocation's string and JSON arguments;</item>
/// <item>MaxSubscriptionsPerConnection: active streams (methods returning <see cref="IAsyncEnumerable{T}"/>) on the
/// connection; a stream stops counting when it ends or the client cancels it;</item>
/// <item>run-start quotas for methods marked <see cref="StartsRunAttribute"/>.</item>
/// </list>
/// Refusals are HubExceptions "[code] message".
/// </summary>
internal sealed class TenantQuotaHubFilter(QuotaSettings settings, TenantConnections connections, RunStartGate starts,
    QuotaRejections rejections) : IHubFilter
{
    private static readonly object CountedTenantKey = new();
    private static readonly object StreamsKey = new();
    private static readonly ConcurrentDictionary<MethodInfo, MethodTraits> Traits = new();

    public async Task OnConnectedAsync(HubLifetimeContext context, Func<HubLifetimeContext, Task> next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        var tenant = TenantIds.TenantOf(context.Context.User);
        var limit = settings.For(tenant).MaxConnections;
        if (!connections.TryAdd(tenant, limit))
        {
            throw rejections.HubError(tenant, QuotaRejection.Connections(limit ?? 0, settings.Current.RetryAfterSeconds));
        }
        // Items is not thread-safe; connect runs before any invocation, so the stream count is created here.
        context.Context.Items[StreamsKey] = new StreamCount();
        try
        {
            await next(context);
        }
        catch
        {
            connections.Remove(tenant);
            throw;
        }
        context.Context.Items[CountedTenantKey] = tenant;
    }

    public async Task OnDisconnectedAsync(HubLifetimeContext context, Exception? exception, Func<HubLifetimeContext, Exception?, Task> next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        if (context.Context.Items.Remove(CountedTenantKey, out var tenant) && tenant is string counted)
        {
            connections.Remove(counted);
        }
        await next(context, exception);
    }

    public async ValueTask<object?> InvokeMethodAsync(HubInvocationContext invocationContext, Func<HubInvocationContext, ValueTask<object?>> next)
    {
        ArgumentNullException.ThrowIfNull(invocationContext);
        ArgumentNullException.ThrowIfNull(next);
        var tenant = TenantIds.TenantOf(invocationContext.Context.User);
        var limits = settings.For(tenant);
        if (limits.MaxMessageBytes is { } maxBytes && ArgumentBytes(invocationContext.HubMethodArguments, maxBytes) is var size && size > maxBytes)
        {
            throw rejections.HubError(tenant, QuotaRejection.MessageSize(size, maxBytes));
        }

        var traits = Traits.GetOrAdd(invocationContext.HubMethod, MethodTraits.Of);
        StreamCount? streams = null;
        if (traits.StreamItemType is not null)
        {
            streams = (StreamCount)invocationContext.Context.Items[StreamsKey]!;
            if (!streams.TryAcquire(limits.MaxSubscriptionsPerConnection))
            {
                throw rejections.HubError(tenant, QuotaRejection.Subscriptions(limits.MaxSubscriptionsPerConnection ?? 0));
            }
        }
        try
        {
            object? result;
            if (traits.StartsRun)
            {
                object? started = null;
                var rejection = await starts.RunAsync(tenant, async () =>
                {
                    started = await next(invocationContext);
                    return true;
                }, invocationContext.Context.ConnectionAborted);
                if (rejection is not null)
                {
                    throw rejection.ToHubException();
                }
                result = started;
            }
            else
            {
                result = await next(invocationContext);
            }
            if (streams is not null)
            {
                // From here the stream releases its slot when it ends.
                var counted = traits.WrapStream!(result, streams);
                streams = null;
                return counted;
            }
            return result;
        }
        finally
        {
            streams?.Release();
        }
    }

    /// <summary>UTF-8 bytes of string and JSON arguments (injected services and tokens are not part of the message); stops once over the limit.</summary>
    private static long ArgumentBytes(IReadOnlyList<object?> arguments, int limit)
    {
        long total = 0;
        for (var i = 0; i < arguments.Count && total <= limit; i++)
        {
            total += arguments[i] switch
            {
                string text => Encoding.UTF8.GetByteCount(text),
                JsonElement json => Encoding.UTF8.GetByteCount(json.GetRawText()),
                JsonDocument document => Encoding.UTF8.GetByteCount(document.RootElement.GetRawText()),
                byte[] bytes => bytes.Length,
                _ => 0,
            };
        }
        return total;
    }

    private sealed class StreamCount
    {
        private int _active;

        public bool TryAcquire(int? limit)
        {
            while (true)
            {
                var current = Volatile.Read(ref _active);
                if (limit is { } max && current >= max)
                {
                    return false;
                }
                if (Interlocked.CompareExchange(ref _active, current + 1, current) == current)
                {
                    return true;
                }
            }
        }

        public void Release() => Interlocked.Decrement(ref _active);
    }

    private sealed record MethodTraits(bool StartsRun, Type? StreamItemType, Func<object?, StreamCount, object?>? WrapStream)
    {
        public static MethodTraits Of(MethodInfo method)
        {
            var startsRun = method.GetCustomAttribute<StartsRunAttribute>() is not null;
            var returned = method.ReturnType;
            if (returned.IsGenericType && (returned.GetGenericTypeDefinition() == typeof(Task<>) || returned.GetGenericTypeDefinition() == typeof(ValueTask<>)))
            {
                returned = returned.GetGenericArguments()[0];
            }
            if (!returned.IsGenericType || returned.GetGenericTypeDefinition() != typeof(IAsyncEnumerable<>))
            {
                return new MethodTraits(startsRun, null, null);
            }
            var itemType = returned.GetGenericArguments()[0];
            var wrap = typeof(MethodTraits).GetMethod(nameof(Wrap), BindingFlags.NonPublic | BindingFlags.Static)!.MakeGenericMethod(itemType)
                .CreateDelegate<Func<object?, StreamCount, object?>>();
            return new MethodTraits(startsRun, itemType, wrap);
        }

        private static object? Wrap<T>(object? stream, StreamCount count)
        {
            if (stream is not IAsyncEnumerable<T> items)
            {
                count.Release();
                return stream;
            }
            return Counted(items, count, default);
        }

        private static async IAsyncEnumerable<T> Counted<T>(IAsyncEnumerable<T> items, StreamCount count, [EnumeratorCancellation] CancellationToken cancellationToken)
        {
            try
            {
                await foreach (var item in items.WithCancellation(cancellationToken))
                {
                    yield return item;
                }
            }
            finally
            {
                count.Release();
            }
        }
    }
}

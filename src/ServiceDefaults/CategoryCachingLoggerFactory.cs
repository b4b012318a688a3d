using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AgentOrchestrator.ServiceDefaults;

/// <summary>
/// One logger per category. Serilog's logger factory builds a new logger (with its own enricher and event-id
/// cache, ~1 KB) on every CreateLogger call, and every ILogger&lt;T&gt; a scoped or per-connection service takes
/// calls it: a gateway held four per idle SignalR connection and a worker built several per activity. Microsoft's
/// own factory caches by category; this restores that over whichever factory is registered.
/// </summary>
internal sealed class CategoryCachingLoggerFactory(ILoggerFactory inner) : ILoggerFactory
{
    private readonly ConcurrentDictionary<string, ILogger> _loggers = new(StringComparer.Ordinal);

    public ILogger CreateLogger(string categoryName) =>
        _loggers.GetOrAdd(categoryName, static (name, factory) => factory.CreateLogger(name), inner);

    public void AddProvider(ILoggerProvider provider) => inner.AddProvider(provider);

    public void Dispose() => inner.Dispose();
}

internal static class CategoryCachingLoggerFactoryExtensions
{
    /// <summary>Wraps the last registered <see cref="ILoggerFactory"/> (a factory-registered singleton) in <see cref="CategoryCachingLoggerFactory"/>.</summary>
    public static IServiceCollection CacheLoggersByCategory(this IServiceCollection services)
    {
        ServiceDescriptor? registered = services.LastOrDefault(d => d.ServiceType == typeof(ILoggerFactory));
        if (registered is not { Lifetime: ServiceLifetime.Singleton, ImplementationFactory: { } create })
        {
            throw new InvalidOperationException("Expected a singleton ILoggerFactory registered by a factory (Serilog's AddSerilog) to wrap.");
        }
        services.Remove(registered);
        services.AddSingleton<ILoggerFactory>(provider => new CategoryCachingLoggerFactory((ILoggerFactory)create(provider)));
        return services;
    }
}

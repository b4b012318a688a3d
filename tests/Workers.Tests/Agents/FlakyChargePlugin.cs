using System.Collections.Concurrent;
using System.ComponentModel;
using AgentOrchestrator.Workers.Tools;
using Microsoft.SemanticKernel;

namespace AgentOrchestrator.Workers.Tests.Agents;

/// <summary>Every call the flaky tool saw: the idempotency key, the attempt and the order.</summary>
public sealed class ChargeLedger
{
    public ConcurrentQueue<(string Key, int Attempt, string Order)> Calls { get; } = new();

    public ConcurrentDictionary<string, string> Charged { get; } = new();
}

/// <summary>A tool with a side effect that fails its first two attempts per idempotency key, then charges once.</summary>
public sealed class FlakyChargePlugin(ChargeLedger ledger)
{
    public const string PluginName = "Flaky";
    public const string ChargeTool = "Flaky-charge";
    public const int FailingAttempts = 2;

    [KernelFunction("charge")]
    [Description("Charge an order.")]
    public string Charge([Description("Order id")] string order)
    {
        AgentToolContext context = AgentToolContext.Current ?? throw new InvalidOperationException("No tool context.");
        ledger.Calls.Enqueue((context.IdempotencyKey, context.Attempt, order));
        if (ledger.Calls.Count(c => c.Key == context.IdempotencyKey) <= FailingAttempts)
        {
            throw new InvalidOperationException($"payment service unavailable (attempt {context.Attempt})");
        }
        // De-duplicated by key: a retried call never charges twice.
        ledger.Charged.TryAdd(context.IdempotencyKey, order);
        return $"charged {order}";
    }
}

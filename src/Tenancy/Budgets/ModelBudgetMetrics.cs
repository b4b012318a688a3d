using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace AgentOrchestrator.Tenancy.Budgets;

/// <summary>Meter "AgentOrchestrator.Tenancy": what the model budget granted, made wait, refused, and when it degraded.</summary>
public sealed class ModelBudgetMetrics
{
    public const string MeterName = "AgentOrchestrator.Tenancy";

    private readonly Counter<long> _tokens;
    private readonly Counter<double> _cost;
    private readonly Counter<long> _waits;
    private readonly Counter<long> _rejections;
    private readonly Counter<long> _degraded;
    private readonly UpDownCounter<long> _inFlight;

    public ModelBudgetMetrics(IMeterFactory meters)
    {
        ArgumentNullException.ThrowIfNull(meters);
        Meter meter = meters.Create(MeterName);
        _tokens = meter.CreateCounter<long>("tenancy.budget.tokens", "{token}", "Model tokens (prompt + completion) consumed against tenants' budgets");
        _cost = meter.CreateCounter<double>("tenancy.budget.cost", "{currency}", "Model cost consumed against tenants' budgets, from the price table");
        _waits = meter.CreateCounter<long>("tenancy.budget.waits", "{wait}", "Model calls told to wait, by reason (token_budget, cost_budget, model_concurrency, model_rate_limited)");
        _rejections = meter.CreateCounter<long>("tenancy.budget.rejections", "{call}", "Model calls refused under the Fail policy, by reason");
        _degraded = meter.CreateCounter<long>("tenancy.budget.degraded", "{outage}", "Times this process fell back to its local share of the budget because the shared store was unreachable");
        _inFlight = meter.CreateUpDownCounter<long>("tenancy.budget.calls_in_flight", "{call}", "Model calls holding a budget slot in this process");
    }

    public void Consumed(string tenant, string model, long tokens, decimal cost)
    {
        var tags = new TagList { { "tenant", tenant }, { "model", model } };
        _tokens.Add(tokens, tags);
        if (cost > 0)
        {
            _cost.Add((double)cost, tags);
        }
    }

    public void Waited(string tenant, string reason) => _waits.Add(1, new TagList { { "tenant", tenant }, { "reason", reason } });

    public void Rejected(string tenant, string reason) => _rejections.Add(1, new TagList { { "tenant", tenant }, { "reason", reason } });

    public void Degraded() => _degraded.Add(1);

    public void CallStarted(string tenant) => _inFlight.Add(1, new TagList { { "tenant", tenant } });

    public void CallEnded(string tenant) => _inFlight.Add(-1, new TagList { { "tenant", tenant } });
}

namespace AgentOrchestrator.Gateway.Quotas;

/// <summary>
/// Marks a REST handler or hub method that starts a run: the tenant's run-start rate and concurrent-run quotas are
/// checked before it runs (a refused call never reaches it, so nothing starts). A REST start counts as started when
/// the handler answers 201; a hub start when the method returns without throwing.
/// </summary>
[AttributeUsage(AttributeTargets.Method, Inherited = false)]
public sealed class StartsRunAttribute : Attribute;

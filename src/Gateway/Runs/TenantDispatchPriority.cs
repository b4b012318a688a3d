using AgentOrchestrator.Tenancy;
using Temporalio.Common;

namespace AgentOrchestrator.Gateway.Runs;

/// <summary>
/// The Temporal task priority of a tenant's workflows, read from its plan when a run or thread starts: priority key =
/// plan priority, fairness key = tenant, fairness weight = plan weight. Temporal gives a workflow's activities and
/// child workflows the same priority unless they set their own, so the whole run is dispatched by the tenant's plan.
/// A plan change applies to runs started after it; running workflows keep the priority they started with.
/// </summary>
public sealed class TenantDispatchPriority(ITenantPolicyProvider policies)
{
    public Priority For(string tenantId)
    {
        var policy = policies.PolicyOf(tenantId);
        // Tenant ids are at most 64 characters (TenantIds), Temporal's limit for a fairness key.
        return new Priority(priorityKey: policy.Priority, fairnessKey: tenantId, fairnessWeight: (float)policy.FairnessWeight);
    }
}

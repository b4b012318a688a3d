using Temporalio.Common;

namespace AgentOrchestrator.Gateway.Runs;

/// <summary>
/// Search attributes the gateway sets when it starts a run. A real Temporal cluster needs them registered once per
/// namespace (docker-compose's temporal-setup does; otherwise
/// <c>temporal operator search-attribute create --name TenantId --type Keyword</c>); the dev server accepts any.
/// </summary>
public static class RunSearchAttributes
{
    /// <summary>The run's tenant: concurrent-run quotas count <c>TenantId = 'x' AND ExecutionStatus = 'Running'</c>.</summary>
    public static SearchAttributeKey<string> TenantId { get; } = SearchAttributeKey.CreateKeyword("TenantId");
}

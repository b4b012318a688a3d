using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Logging;

namespace AgentOrchestrator.Gateway.Quotas;

/// <summary>Every refusal goes through here: counted in metrics, logged (Debug), then answered in the caller's protocol.</summary>
public sealed class QuotaRejections(QuotaMetrics metrics, ILogger<QuotaRejections> logger)
{
    public QuotaRejection Record(string tenant, QuotaRejection rejection)
    {
        metrics.Rejected(tenant, rejection);
        QuotaLog.Rejected(logger, tenant, rejection.Code, rejection.Message);
        return rejection;
    }

    public Task WriteAsync(HttpContext http, string tenant, QuotaRejection rejection) => Record(tenant, rejection).WriteAsync(http);

    public HubException HubError(string tenant, QuotaRejection rejection) => Record(tenant, rejection).ToHubException();
}

using System.Globalization;
using System.Security.Claims;
using System.Text;
using System.Text.Json;
using AgentOrchestrator.Gateway.Auth;
using AgentOrchestrator.Gateway.Runs;
using AgentOrchestrator.Tenancy;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;

namespace AgentOrchestrator.Gateway.Admin;

/// <summary>
/// /v1/admin/tenants: read and change tenant policy at runtime (admin scope). A change goes to the override store and
/// applies without a restart: at once on this gateway, within seconds on every process sharing the store.
/// </summary>
internal static class TenantAdminEndpoints
{
    public const string InvalidPolicyCode = "invalid_policy";
    public const string InvalidRequestCode = "invalid_request";
    public const string PolicyNotFoundCode = "policy_not_found";
    public const string StoreUnavailableCode = "policy_store_unavailable";
    private const int StoreRetryAfterSeconds = 5;
    private const int MaxPolicyBytes = 16 * 1024;
    private const string LogCategory = "AgentOrchestrator.Gateway.Admin.TenantAdmin";

    public static IEndpointRouteBuilder MapTenantAdmin(this IEndpointRouteBuilder endpoints)
    {
        var admin = endpoints.MapGroup("/v1/admin/tenants").RequireAuthorization(AdminAuthorization.PolicyName);
        admin.MapGet("", List);
        admin.MapGet("/{tenantId}/policy", GetPolicy);
        admin.MapPut("/{tenantId}/policy", PutPolicyAsync);
        admin.MapDelete("/{tenantId}/policy", DeletePolicyAsync);
        admin.MapGet("/{tenantId}/usage", GetUsageAsync);
        return endpoints;
    }

    private static IResult List(TenantPolicyProvider policies)
    {
        var configured = policies.Configuration.Tenants;
        var overrides = policies.Overrides;
        var tenants = configured.Keys.Union(overrides.Keys, StringComparer.Ordinal).Order(StringComparer.Ordinal)
            .Select(t => new TenantSummary(t, policies.PolicyOf(t).Plan, configured.ContainsKey(t), overrides.ContainsKey(t)))
            .ToList();
        return Results.Json(new TenantListResponse(tenants), TenantAdminJsonContext.Default.TenantListResponse);
    }

    private static IResult GetPolicy(string tenantId, TenantPolicyProvider policies) =>
        TenantPolicyValidation.IsValidTenantId(tenantId) ? PolicyOf(tenantId, policies) : InvalidTenant(tenantId);

    private static async Task<IResult> PutPolicyAsync(string tenantId, HttpContext http, TenantPolicyProvider policies, ITenantPolicyStore store,
        TenantPolicyChangeMetrics metrics, ILoggerFactory loggers)
    {
        var logger = loggers.CreateLogger(LogCategory);
        if (!TenantPolicyValidation.IsValidTenantId(tenantId))
        {
            return InvalidTenant(tenantId);
        }
        TenantPolicy? policy;
        try
        {
            policy = await JsonSerializer.DeserializeAsync(new LengthLimitedStream(http.Request.Body, MaxPolicyBytes),
                TenantAdminRequestJsonContext.Default.TenantPolicy, http.RequestAborted);
        }
        catch (Exception e) when (e is JsonException or LengthLimitedStream.LimitExceededException)
        {
            return InvalidPolicy(new Dictionary<string, string[]> { ["body"] = [e.Message] });
        }
        if (policy is null)
        {
            return InvalidPolicy(new Dictionary<string, string[]> { ["body"] = ["The body must be a policy object."] });
        }
        var errors = TenantPolicyValidation.Validate(policy, policies.Configuration.Plans);
        if (errors.Count > 0)
        {
            return InvalidPolicy(errors.GroupBy(e => JsonNamingPolicy.CamelCase.ConvertName(e.Field))
                .ToDictionary(g => g.Key, g => g.Select(e => e.Message).ToArray()));
        }

        var actor = ActorOf(http.User);
        var previous = policies.GetOverride(tenantId);
        try
        {
            await store.SetAsync(tenantId, policy, http.RequestAborted);
        }
        catch (TenantPolicyStoreUnavailableException e)
        {
            TenantAdminLog.StoreUnavailable(logger, tenantId, actor, e.Message);
            return StoreUnavailable(http);
        }
        await RefreshAsync(policies, tenantId, logger, http.RequestAborted);
        // Computed whatever the log level: a change is rare, and the diff is what the audit line is for.
        var diff = Diff(previous, policy);
        TenantAdminLog.PolicyChanged(logger, tenantId, "set", actor, diff);
        metrics.Changed(tenantId, "set");
        return Results.Json(new TenantPolicyResponse(tenantId, policy, policies.PolicyOf(tenantId)), TenantAdminJsonContext.Default.TenantPolicyResponse);
    }

    private static async Task<IResult> DeletePolicyAsync(string tenantId, HttpContext http, TenantPolicyProvider policies, ITenantPolicyStore store,
        TenantPolicyChangeMetrics metrics, ILoggerFactory loggers)
    {
        var logger = loggers.CreateLogger(LogCategory);
        if (!TenantPolicyValidation.IsValidTenantId(tenantId))
        {
            return InvalidTenant(tenantId);
        }
        var actor = ActorOf(http.User);
        var previous = policies.GetOverride(tenantId);
        bool removed;
        try
        {
            removed = await store.RemoveAsync(tenantId, http.RequestAborted);
        }
        catch (TenantPolicyStoreUnavailableException e)
        {
            TenantAdminLog.StoreUnavailable(logger, tenantId, actor, e.Message);
            return StoreUnavailable(http);
        }
        await RefreshAsync(policies, tenantId, logger, http.RequestAborted);
        if (!removed)
        {
            return ControlProblems.Problem(StatusCodes.Status404NotFound, PolicyNotFoundCode, "No runtime policy.",
                $"Tenant '{tenantId}' has no runtime policy override; its configured policy applies.");
        }
        var diff = Diff(previous, null);
        TenantAdminLog.PolicyChanged(logger, tenantId, "removed", actor, diff);
        metrics.Changed(tenantId, "remove");
        return Results.NoContent();
    }

    private static async Task<IResult> GetUsageAsync(string tenantId, HttpContext http, TenantPolicyProvider policies,
        [FromServices] IEnumerable<ITenantUsageContributor> contributors, ILoggerFactory loggers)
    {
        var logger = loggers.CreateLogger(LogCategory);
        if (!TenantPolicyValidation.IsValidTenantId(tenantId))
        {
            return InvalidTenant(tenantId);
        }
        var policy = policies.PolicyOf(tenantId);
        var report = new TenantUsageReport { Tenant = tenantId };
        foreach (var contributor in contributors)
        {
            try
            {
                await contributor.ContributeAsync(report, http.RequestAborted);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                TenantAdminLog.ContributorFailed(logger, tenantId, contributor.GetType().Name, e);
            }
        }
        var usage = new TenantUsageFigures(
            new UsageFigure(report.Connections, policy.MaxConnections, "node"),
            new UsageFigure(report.RunsRunning, policy.MaxConcurrentRuns, "cluster"),
            new UsageFigure(report.ModelTokensLastMinute, policy.ModelTokensPerMinute, "cluster"),
            new UsageFigure(report.ModelCostLastHour, policy.ModelCostPerHour, "cluster"),
            new UsageFigure(report.ModelCallsInFlight, policy.MaxConcurrentModelCalls, "cluster"),
            new UsageFigure(report.BudgetWaits, null, "cluster"),
            new UsageFigure(report.Rejections, null, "node"));
        return Results.Json(new TenantUsageResponse(tenantId, policy.Plan, usage, policy), TenantAdminJsonContext.Default.TenantUsageResponse);
    }

    private static IResult PolicyOf(string tenant, TenantPolicyProvider policies) =>
        Results.Json(new TenantPolicyResponse(tenant, policies.GetOverride(tenant), policies.PolicyOf(tenant)), TenantAdminJsonContext.Default.TenantPolicyResponse);

    /// <summary>So this gateway enforces the change at once; other processes learn of it from the store.</summary>
    private static async Task RefreshAsync(TenantPolicyProvider policies, string tenant, ILogger logger, CancellationToken cancellationToken)
    {
        try
        {
            await policies.RefreshAsync(cancellationToken);
        }
        catch (TenantPolicyStoreUnavailableException e)
        {
            TenantAdminLog.RefreshAfterChangeFailed(logger, tenant, e.Message);
        }
    }

    private static string ActorOf(ClaimsPrincipal user)
    {
        var actor = new StringBuilder(TenantIds.SubjectOf(user) ?? "(no subject)");
        actor.Append(CultureInfo.InvariantCulture, $" of tenant {user.FindFirst(TenantIds.TenantClaim)?.Value ?? "(none)"}");
        if (user.FindFirst(ApiKeyDefaults.KeyIdClaim)?.Value is { } keyId)
        {
            actor.Append(CultureInfo.InvariantCulture, $" (API key {keyId})");
        }
        return actor.ToString();
    }

    /// <summary>"MaxConcurrentRuns: 5 -> 1; plan: (unset) -> pro", field by field from the stored JSON shape.</summary>
    private static string Diff(TenantPolicy? before, TenantPolicy? after)
    {
        var old = Fields(before);
        var @new = Fields(after);
        var changes = old.Keys.Union(@new.Keys, StringComparer.Ordinal).Order(StringComparer.Ordinal)
            .Where(field => old.GetValueOrDefault(field) != @new.GetValueOrDefault(field))
            .Select(field => $"{field}: {old.GetValueOrDefault(field) ?? "(unset)"} -> {@new.GetValueOrDefault(field) ?? "(unset)"}")
            .ToList();
        return changes.Count == 0 ? "no change" : string.Join("; ", changes);
    }

    private static Dictionary<string, string> Fields(TenantPolicy? policy) => policy is null
        ? []
        : JsonSerializer.SerializeToElement(policy, TenancyJsonContext.Default.TenantPolicy).EnumerateObject()
            .ToDictionary(p => p.Name, p => p.Value.ToString(), StringComparer.Ordinal);

    private static IResult InvalidTenant(string tenant) =>
        Results.ValidationProblem(
            new Dictionary<string, string[]> { ["tenantId"] = ["1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit."] },
            detail: $"'{tenant}' is not a valid tenant id.", title: "Invalid tenant id.",
            extensions: new Dictionary<string, object?> { ["code"] = InvalidRequestCode });

    private static IResult InvalidPolicy(Dictionary<string, string[]> errors) =>
        Results.ValidationProblem(errors, detail: string.Join(" ", errors.Select(e => $"{e.Key}: {string.Join(" ", e.Value)}")),
            title: "The policy is invalid; nothing was changed.", extensions: new Dictionary<string, object?> { ["code"] = InvalidPolicyCode });

    private static IResult StoreUnavailable(HttpContext http)
    {
        // The handler owns the response: the header goes on it directly, as RunEndpoints sets Location.
        http.Response.Headers.RetryAfter = StoreRetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
        return Results.Problem(
            $"The tenant policy store cannot be reached; nothing was changed. Retry after {StoreRetryAfterSeconds} s.",
            statusCode: StatusCodes.Status503ServiceUnavailable, title: "Policy store unavailable.",
            extensions: new Dictionary<string, object?> { ["code"] = StoreUnavailableCode, ["retryAfterSeconds"] = StoreRetryAfterSeconds });
    }
}

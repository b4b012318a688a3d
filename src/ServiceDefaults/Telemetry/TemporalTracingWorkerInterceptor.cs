using System.Diagnostics;
using Temporalio.Api.Common.V1;
using Temporalio.Worker.Interceptors;
using Temporalio.Workflows;

namespace AgentOrchestrator.ServiceDefaults.Telemetry;

/// <summary>
/// Workflows copy the trace context they were started with onto every activity, child workflow and continue-as-new
/// they schedule, and create no spans: workflow code is replayed, and a span made there would be recorded again on
/// every replay. Activities run inside a Server span "RunActivity:&lt;type&gt;" whose parent is that context, so what an
/// activity does (model calls over HTTP, MassTransit publishes) joins the run's trace. Register on
/// TemporalWorkerOptions.Interceptors (<see cref="PrependTo"/>).
/// </summary>
public sealed class TemporalTracingWorkerInterceptor : IWorkerInterceptor
{
    /// <summary>
    /// This interceptor in front of <paramref name="existing"/>, so other interceptors (e.g. metrics) run inside the
    /// activity span; unchanged if one is already there.
    /// </summary>
    public static IReadOnlyCollection<IWorkerInterceptor> PrependTo(IReadOnlyCollection<IWorkerInterceptor>? existing)
    {
        if (existing?.Any(i => i is TemporalTracingWorkerInterceptor) == true)
        {
            return existing;
        }
        return [new TemporalTracingWorkerInterceptor(), .. existing ?? []];
    }

    public WorkflowInboundInterceptor InterceptWorkflow(WorkflowInboundInterceptor nextInterceptor) => new WorkflowInbound(nextInterceptor);

    public ActivityInboundInterceptor InterceptActivity(ActivityInboundInterceptor nextInterceptor) => new ActivityInbound(nextInterceptor);

    private sealed class WorkflowInbound(WorkflowInboundInterceptor next) : WorkflowInboundInterceptor(next)
    {
        public override void Init(WorkflowOutboundInterceptor outbound) => base.Init(new WorkflowOutbound(outbound));
    }

    /// <summary>Deterministic: only copies the header the workflow was started with; reads no clock and makes no span.</summary>
    private sealed class WorkflowOutbound(WorkflowOutboundInterceptor next) : WorkflowOutboundInterceptor(next)
    {
        public override Task<TResult> ScheduleActivityAsync<TResult>(ScheduleActivityInput input) =>
            base.ScheduleActivityAsync<TResult>(input with { Headers = Forward(input.Headers) });

        public override Task<TResult> ScheduleLocalActivityAsync<TResult>(ScheduleLocalActivityInput input) =>
            base.ScheduleLocalActivityAsync<TResult>(input with { Headers = Forward(input.Headers) });

        public override Task<ChildWorkflowHandle<TWorkflow, TResult>> StartChildWorkflowAsync<TWorkflow, TResult>(StartChildWorkflowInput input) =>
            base.StartChildWorkflowAsync<TWorkflow, TResult>(input with { Headers = Forward(input.Headers) });

        public override ContinueAsNewException CreateContinueAsNewException(CreateContinueAsNewExceptionInput input) =>
            base.CreateContinueAsNewException(input with { Headers = Forward(input.Headers) });

        private static IDictionary<string, Payload>? Forward(IDictionary<string, Payload>? headers)
        {
            if (Workflow.Info.Headers is not { } started || !started.TryGetValue(TemporalTracing.HeaderKey, out var context)
                || headers?.ContainsKey(TemporalTracing.HeaderKey) == true)
            {
                return headers;
            }
            var result = headers is null ? new Dictionary<string, Payload>() : new Dictionary<string, Payload>(headers);
            result[TemporalTracing.HeaderKey] = context;
            return result;
        }
    }

    private sealed class ActivityInbound(ActivityInboundInterceptor next) : ActivityInboundInterceptor(next)
    {
        public override async Task<object?> ExecuteActivityAsync(ExecuteActivityInput input)
        {
            var info = Temporalio.Activities.ActivityExecutionContext.Current.Info;
            var parent = TemporalTracing.ParentFrom(input.Headers);
            using var activity = TemporalTracing.Source.StartActivity("RunActivity:" + info.ActivityType, ActivityKind.Server, parent ?? default);
            activity?.SetTag("temporalWorkflowID", info.WorkflowId);
            activity?.SetTag("temporalRunID", info.WorkflowRunId);
            activity?.SetTag("temporalActivityID", info.ActivityId);
            activity?.SetTag("temporalActivityAttempt", info.Attempt);
            try
            {
                return await base.ExecuteActivityAsync(input);
            }
            catch (Exception e)
            {
                TemporalTracing.Failed(activity, e);
                throw;
            }
        }
    }
}

using System.Diagnostics;
using Temporalio.Api.Common.V1;
using Temporalio.Client;
using Temporalio.Client.Interceptors;
using Temporalio.Converters;
using Temporalio.Worker.Interceptors;
using Temporalio.Workflows;

namespace AgentOrchestrator.ServiceDefaults.Telemetry;

/// <summary>
/// Carries W3C trace context (traceparent, tracestate) through Temporal in the header "_tracer-data" (a JSON map, the
/// key and shape Temporal's own OpenTelemetry interceptors use, so traces also join workers written with other SDKs).
/// Client: starting, signalling or updating a workflow opens a Client span and puts its context in the header. Workflow:
/// copies the context it was started with onto every activity, child workflow and continue-as-new it schedules; it
/// creates no spans, since workflow code is replayed and a span made there would be recorded again on every replay.
/// Activity: runs inside a span "RunActivity:&lt;type&gt;" whose parent is that context, so everything the activity does
/// (model calls over HTTP, MassTransit publishes) joins the run's trace. Register one instance on the client
/// (TemporalClientConnectOptions.Interceptors) and one on the worker (TemporalWorkerOptions.Interceptors).
/// </summary>
public sealed class TemporalTracingInterceptor : IClientInterceptor, IWorkerInterceptor
{
    /// <summary>Name of the ActivitySource of the client and activity spans.</summary>
    public const string SourceName = "AgentOrchestrator.Temporal";

    /// <summary>The Temporal header holding the trace context.</summary>
    public const string HeaderKey = "_tracer-data";

    private const string TraceParent = "traceparent";
    private const string TraceState = "tracestate";

    private static readonly ActivitySource Source = new(SourceName);

    public ClientOutboundInterceptor InterceptClient(ClientOutboundInterceptor nextInterceptor) => new ClientOutbound(nextInterceptor);

    public WorkflowInboundInterceptor InterceptWorkflow(WorkflowInboundInterceptor nextInterceptor) => new WorkflowInbound(nextInterceptor);

    public ActivityInboundInterceptor InterceptActivity(ActivityInboundInterceptor nextInterceptor) => new ActivityInbound(nextInterceptor);

    /// <summary>
    /// Adds this interceptor in front of <paramref name="existing"/> (other interceptors, e.g. metrics, keep working and
    /// run inside the activity span). Does nothing if one is already there.
    /// </summary>
    public static IReadOnlyCollection<T> PrependTo<T>(IReadOnlyCollection<T>? existing)
        where T : class
    {
        if (existing?.Any(i => i is TemporalTracingInterceptor) == true)
        {
            return existing;
        }
        return [(T)(object)new TemporalTracingInterceptor(), .. existing ?? []];
    }

    /// <summary>The header for <paramref name="activity"/>'s context added to <paramref name="headers"/>; unchanged without one.</summary>
    private static IDictionary<string, Payload>? WithContext(IDictionary<string, Payload>? headers, Activity? activity)
    {
        if (activity is null || activity.IdFormat != ActivityIdFormat.W3C || activity.Id is null)
        {
            return headers;
        }
        var context = new Dictionary<string, string> { [TraceParent] = activity.Id };
        if (!string.IsNullOrEmpty(activity.TraceStateString))
        {
            context[TraceState] = activity.TraceStateString;
        }
        var result = headers is null ? new Dictionary<string, Payload>() : new Dictionary<string, Payload>(headers);
        result[HeaderKey] = DataConverter.Default.PayloadConverter.ToPayload(context);
        return result;
    }

    /// <summary>The remote parent carried in <paramref name="headers"/>, if any and well formed.</summary>
    private static ActivityContext? ParentFrom(IReadOnlyDictionary<string, Payload>? headers)
    {
        if (headers is null || !headers.TryGetValue(HeaderKey, out var payload))
        {
            return null;
        }
        try
        {
            var context = DataConverter.Default.PayloadConverter.ToValue<Dictionary<string, string>>(payload);
            context.TryGetValue(TraceState, out var state);
            return context.TryGetValue(TraceParent, out var parent) && ActivityContext.TryParse(parent, state, isRemote: true, out var parsed)
                ? parsed
                : null;
        }
        catch (Exception e) when (e is InvalidOperationException or System.Text.Json.JsonException or FormatException)
        {
            // A malformed header from some other client must not fail the activity: it just starts without a parent.
            return null;
        }
    }

    private static Activity? StartClientSpan(string name, string workflowId)
    {
        var activity = Source.StartActivity(name, ActivityKind.Client);
        activity?.SetTag("temporalWorkflowID", workflowId);
        return activity;
    }

    private static void Failed(Activity? activity, Exception exception)
    {
        activity?.SetStatus(ActivityStatusCode.Error, exception.Message);
        activity?.AddException(exception);
    }

    private sealed class ClientOutbound(ClientOutboundInterceptor next) : ClientOutboundInterceptor(next)
    {
        public override async Task<WorkflowHandle<TWorkflow, TResult>> StartWorkflowAsync<TWorkflow, TResult>(StartWorkflowInput input)
        {
            using var activity = StartClientSpan("StartWorkflow:" + input.Workflow, input.Options.Id ?? string.Empty);
            try
            {
                return await base.StartWorkflowAsync<TWorkflow, TResult>(input with { Headers = WithContext(input.Headers, Activity.Current) });
            }
            catch (Exception e)
            {
                Failed(activity, e);
                throw;
            }
        }

        public override async Task SignalWorkflowAsync(SignalWorkflowInput input)
        {
            using var activity = StartClientSpan("SignalWorkflow:" + input.Signal, input.Id);
            try
            {
                await base.SignalWorkflowAsync(input with { Headers = WithContext(input.Headers, Activity.Current) });
            }
            catch (Exception e)
            {
                Failed(activity, e);
                throw;
            }
        }

        public override async Task<WorkflowUpdateHandle<TResult>> StartWorkflowUpdateAsync<TResult>(StartWorkflowUpdateInput input)
        {
            using var activity = StartClientSpan("UpdateWorkflow:" + input.Update, input.Id);
            try
            {
                return await base.StartWorkflowUpdateAsync<TResult>(input with { Headers = WithContext(input.Headers, Activity.Current) });
            }
            catch (Exception e)
            {
                Failed(activity, e);
                throw;
            }
        }
    }

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
            if (Workflow.Info.Headers is not { } started || !started.TryGetValue(HeaderKey, out var context) || headers?.ContainsKey(HeaderKey) == true)
            {
                return headers;
            }
            var result = headers is null ? new Dictionary<string, Payload>() : new Dictionary<string, Payload>(headers);
            result[HeaderKey] = context;
            return result;
        }
    }

    private sealed class ActivityInbound(ActivityInboundInterceptor next) : ActivityInboundInterceptor(next)
    {
        public override async Task<object?> ExecuteActivityAsync(ExecuteActivityInput input)
        {
            var info = Temporalio.Activities.ActivityExecutionContext.Current.Info;
            var parent = ParentFrom(input.Headers);
            using var activity = Source.StartActivity("RunActivity:" + info.ActivityType, ActivityKind.Server, parent ?? default);
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
                Failed(activity, e);
                throw;
            }
        }
    }
}

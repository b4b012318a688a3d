using System.Diagnostics;
using Temporalio.Client;
using Temporalio.Client.Interceptors;

namespace AgentOrchestrator.ServiceDefaults.Telemetry;

/// <summary>
/// Starting, signalling or updating a workflow opens a Client span ("StartWorkflow:&lt;type&gt;", "SignalWorkflow:&lt;name&gt;",
/// "UpdateWorkflow:&lt;name&gt;") and sends its context in the Temporal header (see <see cref="TemporalTracing"/>).
/// Register on TemporalClientConnectOptions.Interceptors.
/// </summary>
public sealed class TemporalTracingClientInterceptor : IClientInterceptor
{
    public ClientOutboundInterceptor InterceptClient(ClientOutboundInterceptor nextInterceptor) => new Outbound(nextInterceptor);

    private static Activity? StartSpan(string name, string workflowId)
    {
        var activity = TemporalTracing.Source.StartActivity(name, ActivityKind.Client);
        activity?.SetTag("temporalWorkflowID", workflowId);
        return activity;
    }

    private sealed class Outbound(ClientOutboundInterceptor next) : ClientOutboundInterceptor(next)
    {
        public override async Task<WorkflowHandle<TWorkflow, TResult>> StartWorkflowAsync<TWorkflow, TResult>(StartWorkflowInput input)
        {
            using var activity = StartSpan("StartWorkflow:" + input.Workflow, input.Options.Id ?? string.Empty);
            try
            {
                return await base.StartWorkflowAsync<TWorkflow, TResult>(input with { Headers = TemporalTracing.WithContext(input.Headers, Activity.Current) });
            }
            catch (Exception e)
            {
                TemporalTracing.Failed(activity, e);
                throw;
            }
        }

        public override async Task SignalWorkflowAsync(SignalWorkflowInput input)
        {
            using var activity = StartSpan("SignalWorkflow:" + input.Signal, input.Id);
            try
            {
                await base.SignalWorkflowAsync(input with { Headers = TemporalTracing.WithContext(input.Headers, Activity.Current) });
            }
            catch (Exception e)
            {
                TemporalTracing.Failed(activity, e);
                throw;
            }
        }

        public override async Task<WorkflowUpdateHandle<TResult>> StartWorkflowUpdateAsync<TResult>(StartWorkflowUpdateInput input)
        {
            using var activity = StartSpan("UpdateWorkflow:" + input.Update, input.Id);
            try
            {
                return await base.StartWorkflowUpdateAsync<TResult>(input with { Headers = TemporalTracing.WithContext(input.Headers, Activity.Current) });
            }
            catch (Exception e)
            {
                TemporalTracing.Failed(activity, e);
                throw;
            }
        }
    }
}

using AgentOrchestrator.DevServer.Engine;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.Extensions.Options;
using Temporalio.Api.Namespace.V1;
using Temporalio.Api.WorkflowService.V1;

namespace AgentOrchestrator.DevServer.Grpc;

/// <summary>
/// The RPCs of temporal.api.workflowservice.v1.WorkflowService that the SDK uses, each handed to the engine part
/// that owns it (<see cref="EngineCallInterceptor"/> maps refusals and waits for storage). Long polls are held
/// at most until one second before the caller's deadline, so an empty answer always arrives in time.
/// </summary>
internal sealed class WorkflowServiceEndpoint(WorkflowEngine engine, IOptions<DevServerOptions> options)
{
    private readonly DevServerOptions _options = options.Value;

    private static TimeSpan HoldFor(ServerCallContext context, TimeSpan cap)
    {
        if (context.Deadline == DateTime.MaxValue)
        {
            return cap;
        }
        var remaining = context.Deadline - DateTime.UtcNow - TimeSpan.FromSeconds(1);
        if (remaining < TimeSpan.Zero)
        {
            return TimeSpan.Zero;
        }
        return remaining < cap ? remaining : cap;
    }

    public static Task<GetSystemInfoResponse> GetSystemInfo(GetSystemInfoRequest request, ServerCallContext context) =>
        Task.FromResult(new GetSystemInfoResponse
        {
            ServerVersion = "1.29.0-devserver",
            Capabilities = new GetSystemInfoResponse.Types.Capabilities
            {
                SdkMetadata = true,
                SignalAndQueryHeader = true,
                EncodedFailureAttributes = true,
                UpsertMemo = true,
                ActivityFailureIncludeHeartbeat = true,
                InternalErrorDifferentiation = true,
                CountGroupByExecutionStatus = true,
            },
        });

    public Task<DescribeNamespaceResponse> DescribeNamespace(DescribeNamespaceRequest request, ServerCallContext context)
    {
        var ns = engine.GetNamespace(string.IsNullOrEmpty(request.Namespace) ? null : request.Namespace);
        return Task.FromResult(new DescribeNamespaceResponse
        {
            NamespaceInfo = new NamespaceInfo
            {
                Name = ns.Name,
                Id = ns.Id,
                State = Temporalio.Api.Enums.V1.NamespaceState.Registered,
                Capabilities = new NamespaceInfo.Types.Capabilities { SyncUpdate = true, AsyncUpdate = true },
            },
            Config = new NamespaceConfig { WorkflowExecutionRetentionTtl = Duration.FromTimeSpan(_options.Retention) },
        });
    }

    public Task<StartWorkflowExecutionResponse> StartWorkflowExecution(StartWorkflowExecutionRequest request, ServerCallContext context) =>
        Task.FromResult(engine.Lifecycle.StartWorkflow(request));

    public Task<SignalWithStartWorkflowExecutionResponse> SignalWithStartWorkflowExecution(SignalWithStartWorkflowExecutionRequest request, ServerCallContext context) =>
        Task.FromResult(engine.Signals.SignalWithStart(request));

    public Task<PollWorkflowTaskQueueResponse> PollWorkflowTaskQueue(PollWorkflowTaskQueueRequest request, ServerCallContext context) =>
        engine.WorkflowTasks.PollAsync(request, HoldFor(context, _options.MaxTaskPollWait), context.CancellationToken);

    public Task<RespondWorkflowTaskCompletedResponse> RespondWorkflowTaskCompleted(RespondWorkflowTaskCompletedRequest request, ServerCallContext context) =>
        Task.FromResult(engine.Commands.CompleteWorkflowTask(request));

    public Task<RespondWorkflowTaskFailedResponse> RespondWorkflowTaskFailed(RespondWorkflowTaskFailedRequest request, ServerCallContext context) =>
        Task.FromResult(engine.WorkflowTasks.Fail(request));

    public Task<PollActivityTaskQueueResponse> PollActivityTaskQueue(PollActivityTaskQueueRequest request, ServerCallContext context) =>
        engine.Activities.PollAsync(request, HoldFor(context, _options.MaxTaskPollWait), context.CancellationToken);

    public Task<RecordActivityTaskHeartbeatResponse> RecordActivityTaskHeartbeat(RecordActivityTaskHeartbeatRequest request, ServerCallContext context) =>
        Task.FromResult(engine.Activities.Heartbeat(request));

    public Task<RespondActivityTaskCompletedResponse> RespondActivityTaskCompleted(RespondActivityTaskCompletedRequest request, ServerCallContext context) =>
        Task.FromResult(engine.Activities.Complete(request));

    public Task<RespondActivityTaskFailedResponse> RespondActivityTaskFailed(RespondActivityTaskFailedRequest request, ServerCallContext context) =>
        Task.FromResult(engine.Activities.Fail(request));

    public Task<RespondActivityTaskCanceledResponse> RespondActivityTaskCanceled(RespondActivityTaskCanceledRequest request, ServerCallContext context) =>
        Task.FromResult(engine.Activities.Canceled(request));

    public Task<GetWorkflowExecutionHistoryResponse> GetWorkflowExecutionHistory(GetWorkflowExecutionHistoryRequest request, ServerCallContext context) =>
        engine.History.GetHistoryAsync(request, request.WaitNewEvent ? HoldFor(context, _options.MaxLongPollWait) : TimeSpan.Zero, context.CancellationToken);

    public Task<SignalWorkflowExecutionResponse> SignalWorkflowExecution(SignalWorkflowExecutionRequest request, ServerCallContext context) =>
        Task.FromResult(engine.Signals.Signal(request));

    public Task<RequestCancelWorkflowExecutionResponse> RequestCancelWorkflowExecution(RequestCancelWorkflowExecutionRequest request, ServerCallContext context) =>
        Task.FromResult(engine.Lifecycle.RequestCancel(request));

    public Task<TerminateWorkflowExecutionResponse> TerminateWorkflowExecution(TerminateWorkflowExecutionRequest request, ServerCallContext context) =>
        Task.FromResult(engine.Lifecycle.Terminate(request));

    public Task<QueryWorkflowResponse> QueryWorkflow(QueryWorkflowRequest request, ServerCallContext context) =>
        engine.Queries.QueryAsync(request, context.CancellationToken);

    public Task<RespondQueryTaskCompletedResponse> RespondQueryTaskCompleted(RespondQueryTaskCompletedRequest request, ServerCallContext context) =>
        Task.FromResult(engine.Queries.Complete(request));

    public Task<UpdateWorkflowExecutionResponse> UpdateWorkflowExecution(UpdateWorkflowExecutionRequest request, ServerCallContext context) =>
        engine.Updates.UpdateAsync(request, HoldFor(context, _options.MaxLongPollWait), context.CancellationToken);

    public Task<PollWorkflowExecutionUpdateResponse> PollWorkflowExecutionUpdate(PollWorkflowExecutionUpdateRequest request, ServerCallContext context) =>
        engine.Updates.PollAsync(request, HoldFor(context, _options.MaxLongPollWait), context.CancellationToken);

    public Task<ExecuteMultiOperationResponse> ExecuteMultiOperation(ExecuteMultiOperationRequest request, ServerCallContext context) =>
        engine.Updates.ExecuteMultiOperationAsync(request, HoldFor(context, _options.MaxLongPollWait), context.CancellationToken);

    public Task<DescribeWorkflowExecutionResponse> DescribeWorkflowExecution(DescribeWorkflowExecutionRequest request, ServerCallContext context) =>
        Task.FromResult(engine.Visibility.Describe(request));

    public Task<ListWorkflowExecutionsResponse> ListWorkflowExecutions(ListWorkflowExecutionsRequest request, ServerCallContext context) =>
        Task.FromResult(engine.Visibility.List(request));

    public Task<CountWorkflowExecutionsResponse> CountWorkflowExecutions(CountWorkflowExecutionsRequest request, ServerCallContext context) =>
        Task.FromResult(engine.Visibility.Count(request));

    // Workers call this once when they stop: their sticky tasks go back to the normal queue at once.
    public Task<ShutdownWorkerResponse> ShutdownWorker(ShutdownWorkerRequest request, ServerCallContext context)
    {
        if (!string.IsNullOrEmpty(request.StickyTaskQueue))
        {
            engine.WorkflowTasks.CloseStickyQueue(request.Namespace, request.StickyTaskQueue);
        }
        return Task.FromResult(new ShutdownWorkerResponse());
    }
}

using Google.Protobuf;
using Grpc.AspNetCore.Server.Model;
using Grpc.Core;
using Temporalio.Api.WorkflowService.V1;

namespace AgentOrchestrator.DevServer.Grpc;

/// <summary>Binds the endpoint's methods to the WorkflowService's gRPC routes.</summary>
internal sealed class WorkflowServiceMethodProvider : IServiceMethodProvider<WorkflowServiceEndpoint>
{
    public const string ServiceName = "temporal.api.workflowservice.v1.WorkflowService";

    public void OnServiceMethodDiscovery(ServiceMethodProviderContext<WorkflowServiceEndpoint> context)
    {
        Add<GetSystemInfoRequest, GetSystemInfoResponse>(context, "GetSystemInfo", (_, r, c) => WorkflowServiceEndpoint.GetSystemInfo(r, c));
        Add<GetClusterInfoRequest, GetClusterInfoResponse>(context, "GetClusterInfo", (s, r, c) => s.GetClusterInfo(r, c));
        Add<DescribeNamespaceRequest, DescribeNamespaceResponse>(context, "DescribeNamespace", (s, r, c) => s.DescribeNamespace(r, c));
        Add<RegisterNamespaceRequest, RegisterNamespaceResponse>(context, "RegisterNamespace", (s, r, c) => s.RegisterNamespace(r, c));
        Add<ListNamespacesRequest, ListNamespacesResponse>(context, "ListNamespaces", (s, r, c) => s.ListNamespaces(r, c));
        Add<UpdateNamespaceRequest, UpdateNamespaceResponse>(context, "UpdateNamespace", (s, r, c) => s.UpdateNamespace(r, c));
        Add<GetSearchAttributesRequest, GetSearchAttributesResponse>(context, "GetSearchAttributes", (s, r, c) => s.GetSearchAttributes(r, c));
        Add<PauseActivityRequest, PauseActivityResponse>(context, "PauseActivity", (s, r, c) => s.PauseActivity(r, c));
        Add<UnpauseActivityRequest, UnpauseActivityResponse>(context, "UnpauseActivity", (s, r, c) => s.UnpauseActivity(r, c));
        Add<ResetActivityRequest, ResetActivityResponse>(context, "ResetActivity", (s, r, c) => s.ResetActivity(r, c));
        Add<ResetWorkflowExecutionRequest, ResetWorkflowExecutionResponse>(context, "ResetWorkflowExecution", (s, r, c) => s.ResetWorkflowExecution(r, c));
        Add<ResetStickyTaskQueueRequest, ResetStickyTaskQueueResponse>(context, "ResetStickyTaskQueue", (s, r, c) => s.ResetStickyTaskQueue(r, c));
        Add<CreateScheduleRequest, CreateScheduleResponse>(context, "CreateSchedule", (s, r, c) => s.CreateSchedule(r, c));
        Add<DescribeScheduleRequest, DescribeScheduleResponse>(context, "DescribeSchedule", (s, r, c) => s.DescribeSchedule(r, c));
        Add<ListSchedulesRequest, ListSchedulesResponse>(context, "ListSchedules", (s, r, c) => s.ListSchedules(r, c));
        Add<CountSchedulesRequest, CountSchedulesResponse>(context, "CountSchedules", (s, r, c) => s.CountSchedules(r, c));
        Add<UpdateScheduleRequest, UpdateScheduleResponse>(context, "UpdateSchedule", (s, r, c) => s.UpdateSchedule(r, c));
        Add<PatchScheduleRequest, PatchScheduleResponse>(context, "PatchSchedule", (s, r, c) => s.PatchSchedule(r, c));
        Add<DeleteScheduleRequest, DeleteScheduleResponse>(context, "DeleteSchedule", (s, r, c) => s.DeleteSchedule(r, c));
        Add<DescribeTaskQueueRequest, DescribeTaskQueueResponse>(context, "DescribeTaskQueue", (s, r, c) => s.DescribeTaskQueue(r, c));
        Add<StartWorkflowExecutionRequest, StartWorkflowExecutionResponse>(context, "StartWorkflowExecution", (s, r, c) => s.StartWorkflowExecution(r, c));
        Add<SignalWithStartWorkflowExecutionRequest, SignalWithStartWorkflowExecutionResponse>(context, "SignalWithStartWorkflowExecution", (s, r, c) => s.SignalWithStartWorkflowExecution(r, c));
        Add<PollWorkflowTaskQueueRequest, PollWorkflowTaskQueueResponse>(context, "PollWorkflowTaskQueue", (s, r, c) => s.PollWorkflowTaskQueue(r, c));
        Add<RespondWorkflowTaskCompletedRequest, RespondWorkflowTaskCompletedResponse>(context, "RespondWorkflowTaskCompleted", (s, r, c) => s.RespondWorkflowTaskCompleted(r, c));
        Add<RespondWorkflowTaskFailedRequest, RespondWorkflowTaskFailedResponse>(context, "RespondWorkflowTaskFailed", (s, r, c) => s.RespondWorkflowTaskFailed(r, c));
        Add<PollActivityTaskQueueRequest, PollActivityTaskQueueResponse>(context, "PollActivityTaskQueue", (s, r, c) => s.PollActivityTaskQueue(r, c));
        Add<RecordActivityTaskHeartbeatRequest, RecordActivityTaskHeartbeatResponse>(context, "RecordActivityTaskHeartbeat", (s, r, c) => s.RecordActivityTaskHeartbeat(r, c));
        Add<RespondActivityTaskCompletedRequest, RespondActivityTaskCompletedResponse>(context, "RespondActivityTaskCompleted", (s, r, c) => s.RespondActivityTaskCompleted(r, c));
        Add<RespondActivityTaskFailedRequest, RespondActivityTaskFailedResponse>(context, "RespondActivityTaskFailed", (s, r, c) => s.RespondActivityTaskFailed(r, c));
        Add<RespondActivityTaskCanceledRequest, RespondActivityTaskCanceledResponse>(context, "RespondActivityTaskCanceled", (s, r, c) => s.RespondActivityTaskCanceled(r, c));
        Add<GetWorkflowExecutionHistoryRequest, GetWorkflowExecutionHistoryResponse>(context, "GetWorkflowExecutionHistory", (s, r, c) => s.GetWorkflowExecutionHistory(r, c));
        Add<GetWorkflowExecutionHistoryReverseRequest, GetWorkflowExecutionHistoryReverseResponse>(context, "GetWorkflowExecutionHistoryReverse",
            (s, r, c) => s.GetWorkflowExecutionHistoryReverse(r, c));
        Add<SignalWorkflowExecutionRequest, SignalWorkflowExecutionResponse>(context, "SignalWorkflowExecution", (s, r, c) => s.SignalWorkflowExecution(r, c));
        Add<RequestCancelWorkflowExecutionRequest, RequestCancelWorkflowExecutionResponse>(context, "RequestCancelWorkflowExecution", (s, r, c) => s.RequestCancelWorkflowExecution(r, c));
        Add<TerminateWorkflowExecutionRequest, TerminateWorkflowExecutionResponse>(context, "TerminateWorkflowExecution", (s, r, c) => s.TerminateWorkflowExecution(r, c));
        Add<QueryWorkflowRequest, QueryWorkflowResponse>(context, "QueryWorkflow", (s, r, c) => s.QueryWorkflow(r, c));
        Add<RespondQueryTaskCompletedRequest, RespondQueryTaskCompletedResponse>(context, "RespondQueryTaskCompleted", (s, r, c) => s.RespondQueryTaskCompleted(r, c));
        Add<UpdateWorkflowExecutionRequest, UpdateWorkflowExecutionResponse>(context, "UpdateWorkflowExecution", (s, r, c) => s.UpdateWorkflowExecution(r, c));
        Add<PollWorkflowExecutionUpdateRequest, PollWorkflowExecutionUpdateResponse>(context, "PollWorkflowExecutionUpdate", (s, r, c) => s.PollWorkflowExecutionUpdate(r, c));
        Add<ExecuteMultiOperationRequest, ExecuteMultiOperationResponse>(context, "ExecuteMultiOperation", (s, r, c) => s.ExecuteMultiOperation(r, c));
        Add<DescribeWorkflowExecutionRequest, DescribeWorkflowExecutionResponse>(context, "DescribeWorkflowExecution", (s, r, c) => s.DescribeWorkflowExecution(r, c));
        Add<ListWorkflowExecutionsRequest, ListWorkflowExecutionsResponse>(context, "ListWorkflowExecutions", (s, r, c) => s.ListWorkflowExecutions(r, c));
        Add<CountWorkflowExecutionsRequest, CountWorkflowExecutionsResponse>(context, "CountWorkflowExecutions", (s, r, c) => s.CountWorkflowExecutions(r, c));
        Add<ShutdownWorkerRequest, ShutdownWorkerResponse>(context, "ShutdownWorker", (s, r, c) => s.ShutdownWorker(r, c));
    }

    private static void Add<TRequest, TResponse>(ServiceMethodProviderContext<WorkflowServiceEndpoint> context, string name,
        UnaryServerMethod<WorkflowServiceEndpoint, TRequest, TResponse> handler)
        where TRequest : class, IMessage<TRequest>, new()
        where TResponse : class, IMessage<TResponse>, new() =>
        GrpcMethods.AddUnary(context, ServiceName, name, handler);
}

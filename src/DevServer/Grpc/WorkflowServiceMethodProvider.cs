using Google.Protobuf;
using Grpc.AspNetCore.Server.Model;
using Grpc.Core;
using Temporalio.Api.WorkflowService.V1;

namespace AgentOrchestrator.DevServer.Grpc;

/// <summary>
/// Binds the endpoint's methods to gRPC routes by hand, reusing the SDK's generated message classes
/// (Temporalio.dll has the messages but no server stubs).
/// </summary>
internal sealed class WorkflowServiceMethodProvider : IServiceMethodProvider<WorkflowServiceEndpoint>
{
    public const string ServiceName = "temporal.api.workflowservice.v1.WorkflowService";

    private static readonly HashSet<string> s_implemented = new(StringComparer.Ordinal);

    /// <summary>Full paths ("/service/Method") that have a handler; everything else answers UNIMPLEMENTED.</summary>
    public static IReadOnlySet<string> ImplementedPaths => s_implemented;

    public void OnServiceMethodDiscovery(ServiceMethodProviderContext<WorkflowServiceEndpoint> context)
    {
        Add<GetSystemInfoRequest, GetSystemInfoResponse>(context, "GetSystemInfo", (_, r, c) => WorkflowServiceEndpoint.GetSystemInfo(r, c));
        Add<DescribeNamespaceRequest, DescribeNamespaceResponse>(context, "DescribeNamespace", (s, r, c) => s.DescribeNamespace(r, c));
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
        where TResponse : class, IMessage<TResponse>, new()
    {
        var method = new Method<TRequest, TResponse>(MethodType.Unary, ServiceName, name, MessageMarshaller<TRequest>.Instance, MessageMarshaller<TResponse>.Instance);
        context.AddUnaryMethod(method, [], handler);
        lock (s_implemented)
        {
            s_implemented.Add(method.FullName);
        }
    }

    private static class MessageMarshaller<T>
        where T : class, IMessage<T>, new()
    {
        private static readonly MessageParser<T> s_parser = new(() => new T());

        public static readonly Marshaller<T> Instance = Marshallers.Create(
            static message => message.ToByteArray(),
            static bytes =>
            {
                try
                {
                    return s_parser.ParseFrom(bytes);
                }
                catch (InvalidProtocolBufferException error)
                {
                    throw GrpcErrors.InvalidArgument($"malformed {typeof(T).Name}: {error.Message}");
                }
            });
    }
}

using AgentOrchestrator.DevServer.Engine;
using AgentOrchestrator.DevServer.Matching;
using AgentOrchestrator.DevServer.Namespaces;
using AgentOrchestrator.DevServer.Schedules;
using AgentOrchestrator.DevServer.Visibility;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Temporalio.Api.Enums.V1;
using Temporalio.Api.ErrorDetails.V1;
using Temporalio.Api.WorkflowService.V1;

namespace AgentOrchestrator.DevServer.Grpc;

/// <summary>
/// The RPCs of temporal.api.workflowservice.v1.WorkflowService that the SDK uses, each handed to the engine part
/// that owns it (<see cref="EngineCallInterceptor"/> maps refusals and waits for storage). Long polls are held
/// at most until one second before the caller's deadline, so an empty answer always arrives in time.
/// </summary>
internal sealed class WorkflowServiceEndpoint(WorkflowEngine engine, NamespaceRegistry namespaces, SearchAttributeRegistry searchAttributes,
    PollerRegistry pollers, ScheduleService schedules, TimeProvider time, IOptions<DevServerOptions> options,
    IHostApplicationLifetime lifetime)
{
    private readonly DevServerOptions _options = options.Value;

    /// <summary>A long poll ends (empty) when the caller leaves or the server stops, so a stop never waits for held polls.</summary>
    private async Task<T> HoldAsync<T>(ServerCallContext context, Func<CancellationToken, Task<T>> call)
    {
        using var held = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, lifetime.ApplicationStopping);
        return await call(held.Token);
    }

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
                // The SDK then stamps each completion with its build id (worker_version_stamp), which the completed event keeps
                // and a replaying worker reads back as Workflow.CurrentBuildId (without it the id is lost on replay).
                BuildIdBasedVersioning = true,
                SupportsSchedules = true,
            },
        });

    public Task<GetClusterInfoResponse> GetClusterInfo(GetClusterInfoRequest request, ServerCallContext context) =>
        Task.FromResult(ClusterInfo.Describe(_options));

    public Task<DescribeNamespaceResponse> DescribeNamespace(DescribeNamespaceRequest request, ServerCallContext context) =>
        Task.FromResult(namespaces.Describe(request.Namespace, request.Id)
            ?? throw NamespaceGuard.NotFound(string.IsNullOrEmpty(request.Namespace) ? request.Id : request.Namespace));

    public Task<RegisterNamespaceResponse> RegisterNamespace(RegisterNamespaceRequest request, ServerCallContext context)
    {
        if (string.IsNullOrWhiteSpace(request.Namespace))
        {
            throw GrpcErrors.InvalidArgument("Namespace is not set on request.");
        }
        if (!namespaces.Register(request))
        {
            throw GrpcErrors.WithDetail(StatusCode.AlreadyExists, "Namespace already exists.", new NamespaceAlreadyExistsFailure());
        }
        return Task.FromResult(new RegisterNamespaceResponse());
    }

    public Task<ListNamespacesResponse> ListNamespaces(ListNamespacesRequest request, ServerCallContext context)
    {
        var all = namespaces.List();
        var offset = PageToken.ReadOffset(request.NextPageToken);
        var size = request.PageSize > 0 ? request.PageSize : _options.DefaultPageSize;
        var response = new ListNamespacesResponse();
        response.Namespaces.Add(all.Skip(offset).Take(size));
        if (offset + size < all.Count)
        {
            response.NextPageToken = PageToken.Offset(offset + size);
        }
        return Task.FromResult(response);
    }

    public Task<UpdateNamespaceResponse> UpdateNamespace(UpdateNamespaceRequest request, ServerCallContext context)
    {
        var updated = namespaces.Update(request) ?? throw NamespaceGuard.NotFound(request.Namespace);
        return Task.FromResult(new UpdateNamespaceResponse
        {
            NamespaceInfo = updated.NamespaceInfo,
            Config = updated.Config,
            ReplicationConfig = updated.ReplicationConfig,
            FailoverVersion = updated.FailoverVersion,
            IsGlobalNamespace = updated.IsGlobalNamespace,
        });
    }

    public Task<GetSearchAttributesResponse> GetSearchAttributes(GetSearchAttributesRequest request, ServerCallContext context)
    {
        var response = new GetSearchAttributesResponse();
        response.Keys.Add(SearchAttributeRegistry.SystemAttributes.ToDictionary());
        response.Keys.Add(searchAttributes.Custom(namespaces.DefaultNamespace));
        return Task.FromResult(response);
    }

    public Task<DescribeTaskQueueResponse> DescribeTaskQueue(DescribeTaskQueueRequest request, ServerCallContext context)
    {
        if (string.IsNullOrEmpty(request.TaskQueue?.Name))
        {
            throw GrpcErrors.InvalidArgument("TaskQueue is not set on request.");
        }
        var type = request.TaskQueueType == TaskQueueType.Unspecified ? TaskQueueType.Workflow : request.TaskQueueType;
        var response = new DescribeTaskQueueResponse();
        response.Pollers.Add(pollers.Describe(Namespace(request.Namespace), request.TaskQueue.Name, type));
        return Task.FromResult(response);
    }

    public Task<StartWorkflowExecutionResponse> StartWorkflowExecution(StartWorkflowExecutionRequest request, ServerCallContext context) =>
        Task.FromResult(engine.Lifecycle.StartWorkflow(request));

    public Task<SignalWithStartWorkflowExecutionResponse> SignalWithStartWorkflowExecution(SignalWithStartWorkflowExecutionRequest request, ServerCallContext context) =>
        Task.FromResult(engine.Signals.SignalWithStart(request));

    public Task<PollWorkflowTaskQueueResponse> PollWorkflowTaskQueue(PollWorkflowTaskQueueRequest request, ServerCallContext context)
    {
        pollers.Record(Namespace(request.Namespace), request.TaskQueue, TaskQueueType.Workflow, request.Identity, time.GetUtcNow());
        return HoldAsync(context, held => engine.WorkflowTasks.PollAsync(request, HoldFor(context, _options.MaxTaskPollWait), held));
    }

    public Task<RespondWorkflowTaskCompletedResponse> RespondWorkflowTaskCompleted(RespondWorkflowTaskCompletedRequest request, ServerCallContext context) =>
        Task.FromResult(engine.Commands.CompleteWorkflowTask(request));

    public Task<RespondWorkflowTaskFailedResponse> RespondWorkflowTaskFailed(RespondWorkflowTaskFailedRequest request, ServerCallContext context) =>
        Task.FromResult(engine.WorkflowTasks.Fail(request));

    public Task<PollActivityTaskQueueResponse> PollActivityTaskQueue(PollActivityTaskQueueRequest request, ServerCallContext context)
    {
        pollers.Record(Namespace(request.Namespace), request.TaskQueue, TaskQueueType.Activity, request.Identity, time.GetUtcNow());
        return HoldAsync(context, held => engine.Activities.PollAsync(request, HoldFor(context, _options.MaxTaskPollWait), held));
    }

    public Task<RecordActivityTaskHeartbeatResponse> RecordActivityTaskHeartbeat(RecordActivityTaskHeartbeatRequest request, ServerCallContext context) =>
        Task.FromResult(engine.Activities.Heartbeat(request));

    public Task<RespondActivityTaskCompletedResponse> RespondActivityTaskCompleted(RespondActivityTaskCompletedRequest request, ServerCallContext context) =>
        Task.FromResult(engine.Activities.Complete(request));

    public Task<RespondActivityTaskFailedResponse> RespondActivityTaskFailed(RespondActivityTaskFailedRequest request, ServerCallContext context) =>
        Task.FromResult(engine.Activities.Fail(request));

    public Task<RespondActivityTaskCanceledResponse> RespondActivityTaskCanceled(RespondActivityTaskCanceledRequest request, ServerCallContext context) =>
        Task.FromResult(engine.Activities.Canceled(request));

    public Task<GetWorkflowExecutionHistoryResponse> GetWorkflowExecutionHistory(GetWorkflowExecutionHistoryRequest request, ServerCallContext context) =>
        HoldAsync(context, held => engine.History.GetHistoryAsync(request, request.WaitNewEvent ? HoldFor(context, _options.MaxLongPollWait) : TimeSpan.Zero, held));

    /// <summary>
    /// Newest events first, as the Temporal UI shows a history by default. Read through the forward history (so the
    /// history store stays the one reader) and paged by position from the newest event.
    /// </summary>
    public async Task<GetWorkflowExecutionHistoryReverseResponse> GetWorkflowExecutionHistoryReverse(GetWorkflowExecutionHistoryReverseRequest request,
        ServerCallContext context)
    {
        var events = new List<Temporalio.Api.History.V1.HistoryEvent>();
        var forward = new GetWorkflowExecutionHistoryRequest { Namespace = request.Namespace, Execution = request.Execution };
        do
        {
            var page = await engine.History.GetHistoryAsync(forward, TimeSpan.Zero, context.CancellationToken);
            events.AddRange(page.History.Events);
            forward.NextPageToken = page.NextPageToken;
        }
        while (!forward.NextPageToken.IsEmpty);
        events.Reverse();
        var offset = PageToken.ReadOffset(request.NextPageToken);
        var size = request.MaximumPageSize > 0 ? request.MaximumPageSize : _options.DefaultPageSize;
        var response = new GetWorkflowExecutionHistoryReverseResponse { History = new Temporalio.Api.History.V1.History() };
        response.History.Events.Add(events.Skip(offset).Take(size));
        if (offset + size < events.Count)
        {
            response.NextPageToken = PageToken.Offset(offset + size);
        }
        return response;
    }

    public Task<SignalWorkflowExecutionResponse> SignalWorkflowExecution(SignalWorkflowExecutionRequest request, ServerCallContext context) =>
        Task.FromResult(engine.Signals.Signal(request));

    public Task<RequestCancelWorkflowExecutionResponse> RequestCancelWorkflowExecution(RequestCancelWorkflowExecutionRequest request, ServerCallContext context) =>
        Task.FromResult(engine.Lifecycle.RequestCancel(request));

    public Task<TerminateWorkflowExecutionResponse> TerminateWorkflowExecution(TerminateWorkflowExecutionRequest request, ServerCallContext context) =>
        Task.FromResult(engine.Lifecycle.Terminate(request));

    public Task<QueryWorkflowResponse> QueryWorkflow(QueryWorkflowRequest request, ServerCallContext context) =>
        HoldAsync(context, held => engine.Queries.QueryAsync(request, held));

    public Task<RespondQueryTaskCompletedResponse> RespondQueryTaskCompleted(RespondQueryTaskCompletedRequest request, ServerCallContext context) =>
        Task.FromResult(engine.Queries.Complete(request));

    public Task<UpdateWorkflowExecutionResponse> UpdateWorkflowExecution(UpdateWorkflowExecutionRequest request, ServerCallContext context) =>
        HoldAsync(context, held => engine.Updates.UpdateAsync(request, HoldFor(context, _options.MaxLongPollWait), held));

    public Task<PollWorkflowExecutionUpdateResponse> PollWorkflowExecutionUpdate(PollWorkflowExecutionUpdateRequest request, ServerCallContext context) =>
        HoldAsync(context, held => engine.Updates.PollAsync(request, HoldFor(context, _options.MaxLongPollWait), held));

    public Task<ExecuteMultiOperationResponse> ExecuteMultiOperation(ExecuteMultiOperationRequest request, ServerCallContext context) =>
        HoldAsync(context, held => engine.Updates.ExecuteMultiOperationAsync(request, HoldFor(context, _options.MaxLongPollWait), held));

    public Task<DescribeWorkflowExecutionResponse> DescribeWorkflowExecution(DescribeWorkflowExecutionRequest request, ServerCallContext context) =>
        Task.FromResult(engine.Visibility.Describe(request));

    public Task<ListWorkflowExecutionsResponse> ListWorkflowExecutions(ListWorkflowExecutionsRequest request, ServerCallContext context) =>
        Task.FromResult(engine.Visibility.List(request));

    public Task<CountWorkflowExecutionsResponse> CountWorkflowExecutions(CountWorkflowExecutionsRequest request, ServerCallContext context) =>
        Task.FromResult(engine.Visibility.Count(request));

    public Task<PauseActivityResponse> PauseActivity(PauseActivityRequest request, ServerCallContext context) =>
        Task.FromResult(engine.Activities.Pause(request));

    public Task<UnpauseActivityResponse> UnpauseActivity(UnpauseActivityRequest request, ServerCallContext context) =>
        Task.FromResult(engine.Activities.Unpause(request));

    public Task<ResetActivityResponse> ResetActivity(ResetActivityRequest request, ServerCallContext context) =>
        Task.FromResult(engine.Activities.Reset(request));

    public Task<ResetWorkflowExecutionResponse> ResetWorkflowExecution(ResetWorkflowExecutionRequest request, ServerCallContext context) =>
        Task.FromResult(engine.Resets.Reset(request));

    public Task<ResetStickyTaskQueueResponse> ResetStickyTaskQueue(ResetStickyTaskQueueRequest request, ServerCallContext context) =>
        Task.FromResult(engine.WorkflowTasks.ResetSticky(request));

    public Task<CreateScheduleResponse> CreateSchedule(CreateScheduleRequest request, ServerCallContext context) =>
        Schedules(() => schedules.Create(Namespaced(request, request.Namespace)));

    public Task<DescribeScheduleResponse> DescribeSchedule(DescribeScheduleRequest request, ServerCallContext context) =>
        Schedules(() => schedules.Describe(Namespaced(request, request.Namespace)));

    public Task<ListSchedulesResponse> ListSchedules(ListSchedulesRequest request, ServerCallContext context) =>
        Schedules(() => schedules.List(Namespaced(request, request.Namespace), _options.DefaultPageSize));

    public Task<CountSchedulesResponse> CountSchedules(CountSchedulesRequest request, ServerCallContext context) =>
        Schedules(() => new CountSchedulesResponse { Count = schedules.Count(Namespace(request.Namespace)) });

    public Task<UpdateScheduleResponse> UpdateSchedule(UpdateScheduleRequest request, ServerCallContext context) =>
        Schedules(() => schedules.Update(Namespaced(request, request.Namespace)));

    public Task<PatchScheduleResponse> PatchSchedule(PatchScheduleRequest request, ServerCallContext context) =>
        Schedules(() => schedules.Patch(Namespaced(request, request.Namespace)));

    public Task<DeleteScheduleResponse> DeleteSchedule(DeleteScheduleRequest request, ServerCallContext context) =>
        Schedules(() => schedules.Delete(Namespaced(request, request.Namespace)));

    private static Task<T> Schedules<T>(Func<T> call)
    {
        try
        {
            return Task.FromResult(call());
        }
        catch (ScheduleException error)
        {
            throw error.Kind switch
            {
                ScheduleErrorKind.NotFound => GrpcErrors.NotFound(error.Message),
                ScheduleErrorKind.AlreadyExists => GrpcErrors.WithDetail(StatusCode.AlreadyExists, error.Message, new WorkflowExecutionAlreadyStartedFailure()),
                ScheduleErrorKind.ConflictTokenMismatch => new RpcException(new Status(StatusCode.FailedPrecondition, error.Message)),
                _ => GrpcErrors.InvalidArgument(error.Message),
            };
        }
    }

    /// <summary>Fills in the default namespace for a request that leaves it empty.</summary>
    private T Namespaced<T>(T request, string ns)
        where T : Google.Protobuf.IMessage
    {
        if (string.IsNullOrEmpty(ns))
        {
            request.Descriptor.FindFieldByName("namespace").Accessor.SetValue(request, namespaces.DefaultNamespace);
        }
        return request;
    }

    private string Namespace(string requested) => string.IsNullOrEmpty(requested) ? namespaces.DefaultNamespace : requested;

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

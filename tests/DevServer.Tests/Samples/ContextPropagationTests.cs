using System.Collections.Concurrent;
using AgentOrchestrator.TestSupport;
using Temporalio.Activities;
using Temporalio.Api.Common.V1;
using Temporalio.Api.Enums.V1;
using Temporalio.Client;
using Temporalio.Client.Interceptors;
using Temporalio.Converters;
using Temporalio.Worker;
using Temporalio.Worker.Interceptors;
using Temporalio.Workflows;

namespace AgentOrchestrator.DevServer.Tests.Samples;

/// <summary>
/// A context value carried in headers from the client into the workflow, its signals, queries and updates,
/// and on from the workflow to its activities and child workflows: the server must keep every header.
/// </summary>
public sealed class ContextPropagationTests(DevServerFixture server) : IClassFixture<DevServerFixture>
{
    private const string HeaderKey = "x-tenant";

    private static Payload ToPayload(string value) => DataConverter.Default.PayloadConverter.ToPayload(value);

    private static string? Read(IEnumerable<KeyValuePair<string, Payload>>? headers) =>
        headers?.Where(h => h.Key == HeaderKey).Select(h => DataConverter.Default.PayloadConverter.ToValue<string>(h.Value)).SingleOrDefault();

    private static Dictionary<string, Payload> With(IEnumerable<KeyValuePair<string, Payload>>? headers, string? tenant)
    {
        var result = headers is null ? [] : headers.ToDictionary(h => h.Key, h => h.Value);
        if (tenant is not null)
        {
            result[HeaderKey] = ToPayload(tenant);
        }
        return result;
    }

    public sealed class TenantClientInterceptor(string tenant) : IClientInterceptor
    {
        public ClientOutboundInterceptor InterceptClient(ClientOutboundInterceptor nextInterceptor) => new Outbound(tenant, nextInterceptor);

        private sealed class Outbound(string tenant, ClientOutboundInterceptor next) : ClientOutboundInterceptor(next)
        {
            public override Task<WorkflowHandle<TWorkflow, TResult>> StartWorkflowAsync<TWorkflow, TResult>(StartWorkflowInput input) =>
                base.StartWorkflowAsync<TWorkflow, TResult>(input with { Headers = With(input.Headers, tenant) });

            public override Task SignalWorkflowAsync(SignalWorkflowInput input) =>
                base.SignalWorkflowAsync(input with { Headers = With(input.Headers, tenant) });

            public override Task<TResult> QueryWorkflowAsync<TResult>(QueryWorkflowInput input) =>
                base.QueryWorkflowAsync<TResult>(input with { Headers = With(input.Headers, tenant) });

            public override Task<WorkflowUpdateHandle<TResult>> StartWorkflowUpdateAsync<TResult>(StartWorkflowUpdateInput input) =>
                base.StartWorkflowUpdateAsync<TResult>(input with { Headers = With(input.Headers, tenant) });
        }
    }

    /// <summary>Records "workflowId|where:tenant" for every place the header is seen, and forwards it outbound.</summary>
    public sealed class TenantWorkerInterceptor : IWorkerInterceptor
    {
        public ConcurrentDictionary<string, byte> Seen { get; } = new();

        public WorkflowInboundInterceptor InterceptWorkflow(WorkflowInboundInterceptor nextInterceptor) => new WorkflowInbound(this, nextInterceptor);

        public ActivityInboundInterceptor InterceptActivity(ActivityInboundInterceptor nextInterceptor) => new ActivityInbound(this, nextInterceptor);

        private void Record(string workflowId, string where, string? tenant) => Seen.TryAdd($"{workflowId}|{where}:{tenant ?? "<none>"}", 0);

        private sealed class WorkflowInbound(TenantWorkerInterceptor root, WorkflowInboundInterceptor next) : WorkflowInboundInterceptor(next)
        {
            public override void Init(WorkflowOutboundInterceptor outbound) => base.Init(new WorkflowOutbound(outbound));

            public override Task<object?> ExecuteWorkflowAsync(ExecuteWorkflowInput input)
            {
                root.Record(Workflow.Info.WorkflowId, "run", Read(Workflow.Info.Headers));
                return base.ExecuteWorkflowAsync(input);
            }

            public override Task HandleSignalAsync(HandleSignalInput input)
            {
                root.Record(Workflow.Info.WorkflowId, $"signal {input.Signal}", Read(input.Headers));
                return base.HandleSignalAsync(input);
            }

            public override object? HandleQuery(HandleQueryInput input)
            {
                root.Record(Workflow.Info.WorkflowId, $"query {input.Query}", Read(input.Headers));
                return base.HandleQuery(input);
            }

            public override Task<object?> HandleUpdateAsync(HandleUpdateInput input)
            {
                root.Record(Workflow.Info.WorkflowId, $"update {input.Update}", Read(input.Headers));
                return base.HandleUpdateAsync(input);
            }
        }

        private sealed class WorkflowOutbound(WorkflowOutboundInterceptor next) : WorkflowOutboundInterceptor(next)
        {
            private static string? Current => Read(Workflow.Info.Headers);

            public override Task<TResult> ScheduleActivityAsync<TResult>(ScheduleActivityInput input) =>
                base.ScheduleActivityAsync<TResult>(input with { Headers = With(input.Headers, Current) });

            public override Task<ChildWorkflowHandle<TWorkflow, TResult>> StartChildWorkflowAsync<TWorkflow, TResult>(StartChildWorkflowInput input) =>
                base.StartChildWorkflowAsync<TWorkflow, TResult>(input with { Headers = With(input.Headers, Current) });

            public override Task SignalChildWorkflowAsync(SignalChildWorkflowInput input) =>
                base.SignalChildWorkflowAsync(input with { Headers = With(input.Headers, Current) });
        }

        private sealed class ActivityInbound(TenantWorkerInterceptor root, ActivityInboundInterceptor next) : ActivityInboundInterceptor(next)
        {
            public override Task<object?> ExecuteActivityAsync(ExecuteActivityInput input)
            {
                var info = ActivityExecutionContext.Current.Info;
                root.Record(info.WorkflowId!, $"activity {info.ActivityType}", Read(input.Headers));
                return base.ExecuteActivityAsync(input);
            }
        }
    }

    [Workflow]
    public sealed class TenantChildWorkflow
    {
        private bool _nudged;

        [WorkflowRun]
        public async Task<string> RunAsync()
        {
            await Workflow.WaitConditionAsync(() => _nudged);
            return "child done";
        }

        [WorkflowSignal]
        public Task NudgeAsync()
        {
            _nudged = true;
            return Task.CompletedTask;
        }
    }

    [Workflow]
    public sealed class TenantParentWorkflow
    {
        private bool _go;

        [WorkflowRun]
        public async Task<string> RunAsync()
        {
            var echoed = await Workflow.ExecuteActivityAsync(() => Echo("work"), new() { StartToCloseTimeout = TimeSpan.FromSeconds(30) });
            Status = "waiting";
            await Workflow.WaitConditionAsync(() => _go);
            var child = await Workflow.StartChildWorkflowAsync((TenantChildWorkflow wf) => wf.RunAsync(),
                new() { Id = $"{Workflow.Info.WorkflowId}-child" });
            await child.SignalAsync(wf => wf.NudgeAsync());
            return $"{echoed}, {await child.GetResultAsync()}";
        }

        [WorkflowSignal]
        public Task GoAsync()
        {
            _go = true;
            return Task.CompletedTask;
        }

        [WorkflowUpdate]
        public Task<string> RenameAsync(string status)
        {
            Status = status;
            return Task.FromResult(status);
        }

        [WorkflowQuery]
        public string Status { get; private set; } = "starting";

        [Activity]
        public static string Echo(string value) => value;
    }

    [Fact]
    public async Task Headers_FromClientAndWorkflow_ReachEveryHandlerActivityAndChild()
    {
        var client = await TemporalClient.ConnectAsync(new TemporalClientConnectOptions(server.Target)
        {
            Namespace = server.Namespace,
            Interceptors = [new TenantClientInterceptor("acme")],
        });
        var taskQueue = $"tq-{Guid.NewGuid()}";
        var parentId = $"wf-{Guid.NewGuid()}";
        var childId = $"{parentId}-child";
        var recorder = new TenantWorkerInterceptor();
        await using var worker = WorkerScope.Start(client, new TemporalWorkerOptions(taskQueue) { Interceptors = [recorder] }
            .AddWorkflow<TenantParentWorkflow>()
            .AddWorkflow<TenantChildWorkflow>()
            .AddActivity(TenantParentWorkflow.Echo));

        var handle = await client.StartWorkflowAsync((TenantParentWorkflow wf) => wf.RunAsync(), new WorkflowOptions(parentId, taskQueue));
        await Eventually.TrueAsync(async () => await handle.QueryAsync(wf => wf.Status) == "waiting", because: "parent should wait for go");
        Assert.Equal("renamed", await handle.ExecuteUpdateAsync(wf => wf.RenameAsync("renamed")));
        await handle.SignalAsync(wf => wf.GoAsync());
        Assert.Equal("work, child done", await handle.GetResultAsync());

        Assert.Equal(
            [
                $"{childId}|run:acme", $"{childId}|signal Nudge:acme",
                $"{parentId}|activity Echo:acme", $"{parentId}|query Status:acme", $"{parentId}|run:acme",
                $"{parentId}|signal Go:acme", $"{parentId}|update Rename:acme",
            ],
            recorder.Seen.Keys.Order(StringComparer.Ordinal));

        // The server kept each header in history, where replays and new workers read it from.
        var history = await handle.FetchHistoryAsync();
        string? HeaderOf(EventType type, Func<Temporalio.Api.History.V1.HistoryEvent, Header?> header) =>
            Read(header(history.Events.Single(e => e.EventType == type))?.Fields);
        Assert.Equal("acme", HeaderOf(EventType.WorkflowExecutionStarted, e => e.WorkflowExecutionStartedEventAttributes.Header));
        Assert.Equal("acme", HeaderOf(EventType.WorkflowExecutionSignaled, e => e.WorkflowExecutionSignaledEventAttributes.Header));
        Assert.Equal("acme", HeaderOf(EventType.ActivityTaskScheduled, e => e.ActivityTaskScheduledEventAttributes.Header));
        Assert.Equal("acme", HeaderOf(EventType.StartChildWorkflowExecutionInitiated, e => e.StartChildWorkflowExecutionInitiatedEventAttributes.Header));
        Assert.Equal("acme", HeaderOf(EventType.SignalExternalWorkflowExecutionInitiated, e => e.SignalExternalWorkflowExecutionInitiatedEventAttributes.Header));
        Assert.Equal("acme", HeaderOf(EventType.WorkflowExecutionUpdateAccepted, e => e.WorkflowExecutionUpdateAcceptedEventAttributes.AcceptedRequest.Input.Header));
        await Replay.AssertDeterministicAsync(history, typeof(TenantParentWorkflow), typeof(TenantChildWorkflow));

        var childHistory = await client.GetWorkflowHandle(childId).FetchHistoryAsync();
        Assert.Equal("acme", Read(childHistory.Events.First().WorkflowExecutionStartedEventAttributes.Header.Fields));
        Assert.Equal("acme", Read(childHistory.Events.Single(e => e.EventType == EventType.WorkflowExecutionSignaled)
            .WorkflowExecutionSignaledEventAttributes.Header.Fields));
        await Replay.AssertDeterministicAsync(childHistory, typeof(TenantChildWorkflow));
    }
}

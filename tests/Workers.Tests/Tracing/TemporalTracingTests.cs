using System.Collections.Concurrent;
using System.Diagnostics;
using AgentOrchestrator.ServiceDefaults.Telemetry;
using AgentOrchestrator.TestSupport;
using Temporalio.Activities;
using Temporalio.Api.Common.V1;
using Temporalio.Client;
using Temporalio.Client.Interceptors;
using Temporalio.Converters;
using Temporalio.Worker;
using Temporalio.Workflows;

namespace AgentOrchestrator.Workers.Tests.Tracing;

/// <summary>
/// The trace-context interceptor against the dev server with the real SDK: the context a client starts a workflow with
/// reaches every activity, also through a child workflow and a continue-as-new, and workflow replays (no workflow cache,
/// so every task replays the history) make no extra spans.
/// </summary>
public sealed class TemporalTracingTests : IClassFixture<DevServerFixture>, IDisposable
{
    private readonly DevServerFixture _server;
    private readonly ConcurrentQueue<Activity> _spans = new();
    private readonly ActivityListener _listener;

    public TemporalTracingTests(DevServerFixture server)
    {
        _server = server;
        _listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == TemporalTracing.SourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = _spans.Enqueue,
        };
        ActivitySource.AddActivityListener(_listener);
    }

    [Workflow]
    public sealed class TracedWorkflow
    {
        [WorkflowRun]
        public async Task<string> RunAsync(int round)
        {
            var echoed = await Workflow.ExecuteActivityAsync(() => Echo($"round {round}"), new() { StartToCloseTimeout = TimeSpan.FromSeconds(30) });
            if (round > 0)
            {
                return echoed;
            }
            await Workflow.ExecuteChildWorkflowAsync((TracedChildWorkflow wf) => wf.RunAsync(), new() { Id = Workflow.Info.WorkflowId + "-child" });
            throw Workflow.CreateContinueAsNewException((TracedWorkflow wf) => wf.RunAsync(round + 1));
        }
    }

    [Workflow]
    public sealed class TracedChildWorkflow
    {
        [WorkflowRun]
        public Task<string> RunAsync() =>
            Workflow.ExecuteActivityAsync(() => Echo("child"), new() { StartToCloseTimeout = TimeSpan.FromSeconds(30) });
    }

    [Activity]
    public static string Echo(string text) => text;

    [Fact]
    public async Task StartWorkflow_ContextReachesEveryActivity_ThroughChildAndContinueAsNew_WithoutReplaySpans()
    {
        var taskQueue = "tracing-" + Guid.NewGuid().ToString("N");
        var workflowId = "traced-" + Guid.NewGuid().ToString("N");
        var client = await TemporalClient.ConnectAsync(new(_server.Target) { Namespace = _server.Namespace, Interceptors = [new TemporalTracingClientInterceptor()] });
        using var worker = new TemporalWorker(client, new TemporalWorkerOptions(taskQueue)
        {
            Interceptors = TemporalTracingWorkerInterceptor.PrependTo(null),
            MaxCachedWorkflows = 0,
        }.AddWorkflow<TracedWorkflow>().AddWorkflow<TracedChildWorkflow>().AddActivity(Echo));

        var result = await worker.ExecuteAsync(() =>
            client.ExecuteWorkflowAsync((TracedWorkflow wf) => wf.RunAsync(0), new(workflowId, taskQueue)));

        Assert.Equal("round 1", result);
        var start = Assert.Single(_spans, s => s.OperationName == "StartWorkflow:TracedWorkflow" && Equals(s.GetTagItem("temporalWorkflowID"), workflowId));
        Assert.Equal(ActivityKind.Client, start.Kind);
        var trace = _spans.Where(s => s.TraceId == start.TraceId && s != start).ToList();
        // Exactly the three activity executions (first run, child, continued run): workflow code, replayed on every
        // task here, made none.
        Assert.True(trace.Count == 3, string.Join("\n", trace.Select(s => $"{s.OperationName} {s.SpanId}<-{s.ParentSpanId} {string.Join(",", s.TagObjects.Select(t => t.Key + "=" + t.Value))}")));
        Assert.All(trace, span =>
        {
            Assert.Equal("RunActivity:Echo", span.OperationName);
            Assert.Equal(ActivityKind.Server, span.Kind);
            Assert.Equal(start.SpanId, span.ParentSpanId);
        });
        Assert.Equal(2, trace.Count(s => Equals(s.GetTagItem("temporalWorkflowID"), workflowId)));
        Assert.Single(trace, s => Equals(s.GetTagItem("temporalWorkflowID"), workflowId + "-child"));
    }

    [Fact]
    public async Task ExecuteActivity_MalformedTraceHeader_ActivityStillRunsInARootSpan()
    {
        var taskQueue = "tracing-" + Guid.NewGuid().ToString("N");
        var workflowId = "malformed-" + Guid.NewGuid().ToString("N");
        // A caller that is not ours writes something else under the header key.
        var client = await TemporalClient.ConnectAsync(new(_server.Target) { Namespace = _server.Namespace, Interceptors = [new GarbageHeader()] });
        using var worker = new TemporalWorker(client, new TemporalWorkerOptions(taskQueue)
        {
            Interceptors = [new TemporalTracingWorkerInterceptor()],
        }.AddWorkflow<TracedChildWorkflow>().AddActivity(Echo));

        var result = await worker.ExecuteAsync(() =>
            client.ExecuteWorkflowAsync((TracedChildWorkflow wf) => wf.RunAsync(), new(workflowId, taskQueue)));

        Assert.Equal("child", result);
        var span = Assert.Single(_spans, s => s.OperationName == "RunActivity:Echo" && Equals(s.GetTagItem("temporalWorkflowID"), workflowId));
        Assert.Equal(default, span.ParentSpanId);
    }

    public void Dispose() => _listener.Dispose();

    private sealed class GarbageHeader : IClientInterceptor
    {
        public ClientOutboundInterceptor InterceptClient(ClientOutboundInterceptor nextInterceptor) => new Outbound(nextInterceptor);

        private sealed class Outbound(ClientOutboundInterceptor next) : ClientOutboundInterceptor(next)
        {
            public override Task<WorkflowHandle<TWorkflow, TResult>> StartWorkflowAsync<TWorkflow, TResult>(StartWorkflowInput input) =>
                base.StartWorkflowAsync<TWorkflow, TResult>(input with
                {
                    Headers = new Dictionary<string, Payload> { [TemporalTracing.HeaderKey] = DataConverter.Default.PayloadConverter.ToPayload("not a trace context") },
                });
        }
    }
}

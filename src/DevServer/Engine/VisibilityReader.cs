using AgentOrchestrator.DevServer.Engine.State;
using AgentOrchestrator.DevServer.Visibility;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Temporalio.Api.Common.V1;
using Temporalio.Api.Enums.V1;
using Temporalio.Api.Workflow.V1;
using Temporalio.Api.WorkflowService.V1;

namespace AgentOrchestrator.DevServer.Engine;

/// <summary>Describe, list and count: each run's visibility record read under its own lock.</summary>
internal sealed class VisibilityReader(EngineContext context, ExecutionRegistry registry)
{
    public DescribeWorkflowExecutionResponse Describe(DescribeWorkflowExecutionRequest request) =>
        registry.ReadRun(request.Namespace, request.Execution, run =>
        {
            var response = new DescribeWorkflowExecutionResponse
            {
                ExecutionConfig = new WorkflowExecutionConfig
                {
                    TaskQueue = new Temporalio.Api.TaskQueue.V1.TaskQueue { Name = run.TaskQueue, Kind = TaskQueueKind.Normal },
                    WorkflowExecutionTimeout = run.StartAttributes.WorkflowExecutionTimeout,
                    WorkflowRunTimeout = run.StartAttributes.WorkflowRunTimeout,
                    DefaultWorkflowTaskTimeout = run.StartAttributes.WorkflowTaskTimeout,
                    UserMetadata = run.History[0].UserMetadata,
                },
                WorkflowExecutionInfo = ExecutionInfo(run),
            };
            foreach (var activity in run.Activities.Values)
            {
                response.PendingActivities.Add(new PendingActivityInfo
                {
                    ActivityId = activity.Attributes.ActivityId,
                    ActivityType = activity.Attributes.ActivityType,
                    State = activity.CancelRequested ? PendingActivityState.CancelRequested
                        : activity.Phase == ActivityPhase.Started ? PendingActivityState.Started : PendingActivityState.Scheduled,
                    HeartbeatDetails = activity.HeartbeatDetails,
                    Attempt = activity.Attempt,
                    MaximumAttempts = activity.Attributes.RetryPolicy.MaximumAttempts,
                    ScheduledTime = Timestamp.FromDateTime(activity.CurrentAttemptScheduledTime),
                    LastFailure = activity.LastFailure,
                    LastWorkerIdentity = activity.StartedIdentity ?? string.Empty,
                    Paused = activity.Paused,
                });
            }
            foreach (var child in run.Children.Values)
            {
                response.PendingChildren.Add(new PendingChildExecutionInfo
                {
                    WorkflowId = child.WorkflowId,
                    RunId = child.RunId ?? string.Empty,
                    WorkflowTypeName = child.WorkflowType,
                    InitiatedId = child.InitiatedEventId,
                    ParentClosePolicy = child.ParentClosePolicy,
                });
            }
            if (run.Wft != WorkflowTaskState.None)
            {
                response.PendingWorkflowTask = new PendingWorkflowTaskInfo
                {
                    State = run.Wft == WorkflowTaskState.Started ? PendingWorkflowTaskState.Started : PendingWorkflowTaskState.Scheduled,
                    ScheduledTime = Timestamp.FromDateTime(run.WftScheduledTime),
                    Attempt = run.WftAttempt,
                };
            }
            return response;
        });

    private static WorkflowExecutionInfo ExecutionInfo(WorkflowRun run)
    {
        var info = new WorkflowExecutionInfo
        {
            Execution = new WorkflowExecution { WorkflowId = run.WorkflowId, RunId = run.RunId },
            Type = run.StartAttributes.WorkflowType,
            StartTime = Timestamp.FromDateTime(run.StartTime),
            ExecutionTime = Timestamp.FromDateTime(run.ExecutionTime),
            Status = run.Status,
            HistoryLength = run.History.Count,
            TaskQueue = run.TaskQueue,
            ParentExecution = run.StartAttributes.ParentWorkflowExecution,
            ParentNamespaceId = run.StartAttributes.ParentWorkflowNamespaceId ?? string.Empty,
            RootExecution = run.StartAttributes.RootWorkflowExecution ?? new WorkflowExecution { WorkflowId = run.WorkflowId, RunId = run.RunId },
            FirstRunId = run.StartAttributes.FirstExecutionRunId,
            Memo = new Memo(),
            SearchAttributes = new SearchAttributes(),
            Priority = run.Priority,
        };
        if (run.CloseTime is { } closed)
        {
            info.CloseTime = Timestamp.FromDateTime(closed);
            info.ExecutionDuration = Duration.FromTimeSpan(closed - run.StartTime);
        }
        foreach (var (key, value) in run.MemoValues)
        {
            info.Memo.Fields[key] = value;
        }
        foreach (var (key, value) in run.SearchAttributeValues)
        {
            info.SearchAttributes.IndexedFields[key] = value;
        }
        return info;
    }

    /// <summary>Snapshots every run's visibility record (each under its own lock) that the query matches.</summary>
    private List<WorkflowExecutionInfo> MatchingExecutions(string ns, VisibilityQuery query)
    {
        var matches = new List<(WorkflowRun Run, WorkflowExecutionInfo Info)>();
        foreach (var chain in registry.GetNamespace(ns).Chains.Values)
        {
            lock (chain)
            {
                foreach (var run in chain.Runs)
                {
                    if (query.Matches(run))
                    {
                        matches.Add((run, ExecutionInfo(run)));
                    }
                }
            }
        }
        matches.Sort((a, b) => query.Order.Compare(a.Run, b.Run));
        return matches.ConvertAll(m => m.Info);
    }

    public ListWorkflowExecutionsResponse List(ListWorkflowExecutionsRequest request)
    {
        var executions = MatchingExecutions(request.Namespace, VisibilityQuery.Parse(request.Query));
        var offset = request.NextPageToken.IsEmpty ? 0 : PageTokens.Parse(request.NextPageToken) - 1;
        var pageSize = request.PageSize > 0 ? request.PageSize : context.Options.DefaultPageSize;
        var response = new ListWorkflowExecutionsResponse();
        var end = Math.Min(executions.Count, offset + pageSize);
        for (var i = offset; i < end; i++)
        {
            response.Executions.Add(executions[i]);
        }
        if (end < executions.Count)
        {
            response.NextPageToken = PageTokens.For(end + 1);
        }
        return response;
    }

    public CountWorkflowExecutionsResponse Count(CountWorkflowExecutionsRequest request)
    {
        var query = VisibilityQuery.Parse(request.Query);
        var executions = MatchingExecutions(request.Namespace, query);
        var response = new CountWorkflowExecutionsResponse { Count = executions.Count };
        if (query.GroupBy.Count > 0)
        {
            foreach (var group in executions.GroupBy(e => e.Status).OrderBy(g => g.Key))
            {
                response.Groups.Add(new CountWorkflowExecutionsResponse.Types.AggregationGroup
                {
                    GroupValues = { StatusPayload(group.Key) },
                    Count = group.LongCount(),
                });
            }
        }
        return response;
    }

    private static Payload StatusPayload(WorkflowExecutionStatus status) => new()
    {
        Metadata = { ["encoding"] = ByteString.CopyFromUtf8("json/plain"), ["type"] = ByteString.CopyFromUtf8("Keyword") },
        Data = ByteString.CopyFromUtf8("\"" + StatusName(status) + "\""),
    };

    private static string StatusName(WorkflowExecutionStatus status) => status switch
    {
        WorkflowExecutionStatus.ContinuedAsNew => "ContinuedAsNew",
        WorkflowExecutionStatus.TimedOut => "TimedOut",
        _ => status.ToString(),
    };
}

using AgentOrchestrator.DevServer.Engine.Errors;
using AgentOrchestrator.DevServer.Engine.State;
using Google.Protobuf.WellKnownTypes;
using Temporalio.Api.Command.V1;
using Temporalio.Api.Enums.V1;
using Temporalio.Api.Failure.V1;
using Temporalio.Api.History.V1;
using Temporalio.Api.Protocol.V1;
using Temporalio.Api.WorkflowService.V1;

namespace AgentOrchestrator.DevServer.Engine;

/// <summary>
/// Applies a RespondWorkflowTaskCompleted: validates the commands (a bad one fails the task), writes
/// WorkflowTaskCompleted and one event per command in order, hands each command to the part that owns it, then
/// writes side effects and buffered events and schedules the next workflow task if one is due.
/// </summary>
internal sealed class CommandProcessor(
    EngineContext context,
    ExecutionRegistry registry,
    WorkflowTaskDispatcher workflowTasks,
    ActivityDispatcher activities,
    UserTimers timers,
    RunLifecycle lifecycle,
    ChildWorkflows children,
    ExternalWorkflowRequests externalRequests,
    UpdateCoordinator updates,
    QueryDispatcher queries)
{
    // Read by each Completion (a primary constructor's parameters are not members a nested type can reach).
    private readonly EngineContext _context = context;
    private readonly WorkflowTaskDispatcher _workflowTasks = workflowTasks;
    private readonly ActivityDispatcher _activities = activities;
    private readonly UserTimers _timers = timers;
    private readonly RunLifecycle _lifecycle = lifecycle;
    private readonly ChildWorkflows _children = children;
    private readonly ExternalWorkflowRequests _externalRequests = externalRequests;
    private readonly UpdateCoordinator _updates = updates;
    private readonly QueryDispatcher _queries = queries;

    public RespondWorkflowTaskCompletedResponse CompleteWorkflowTask(RespondWorkflowTaskCompletedRequest request)
    {
        var token = TaskToken.Parse(request.TaskToken, TaskToken.WorkflowTask);
        return registry.WithTaskRun(token, run =>
        {
            WorkflowTaskDispatcher.EnsureCurrent(run, token);
            new Completion(this, run, request).Apply();
            return new RespondWorkflowTaskCompletedResponse();
        });
    }

    public static bool IsClosingCommand(CommandType type) => type is CommandType.CompleteWorkflowExecution
        or CommandType.FailWorkflowExecution or CommandType.CancelWorkflowExecution or CommandType.ContinueAsNewWorkflowExecution;

    /// <summary>One completion being applied, under the run's lock.</summary>
    private sealed class Completion(CommandProcessor processor, WorkflowRun run, RespondWorkflowTaskCompletedRequest request)
    {
        private readonly Dictionary<string, Message> _messages = IndexMessages(request);
        private readonly List<HistoryEvent> _sideEffects = [];
        private readonly EngineContext _context = processor._context;
        private long _completedEventId;
        private bool _closed;

        private static Dictionary<string, Message> IndexMessages(RespondWorkflowTaskCompletedRequest request)
        {
            var messages = new Dictionary<string, Message>(StringComparer.Ordinal);
            foreach (var message in request.Messages)
            {
                messages.TryAdd(message.Id, message);
            }
            return messages;
        }

        public void Apply()
        {
            Validate();
            if (HasUnhandledEvents())
            {
                var failed = _context.NewEvent(EventType.WorkflowTaskFailed);
                failed.WorkflowTaskFailedEventAttributes = new WorkflowTaskFailedEventAttributes
                {
                    ScheduledEventId = run.WftScheduledEventId,
                    StartedEventId = run.WftStartedEventId,
                    Cause = WorkflowTaskFailedCause.UnhandledCommand,
                    Identity = request.Identity ?? string.Empty,
                };
                processor._workflowTasks.EndUnsuccessfully(run, failed, nextAttempt: 1);
                throw new InvalidRequestException("UnhandledCommand");
            }

            run.WftTimeoutTimer?.Dispose();
            var completed = _context.NewEvent(EventType.WorkflowTaskCompleted);
            completed.WorkflowTaskCompletedEventAttributes = new WorkflowTaskCompletedEventAttributes
            {
                ScheduledEventId = run.WftScheduledEventId,
                StartedEventId = run.WftStartedEventId,
                Identity = request.Identity ?? string.Empty,
                BinaryChecksum = request.BinaryChecksum ?? string.Empty,
                SdkMetadata = request.SdkMetadata,
                MeteringMetadata = request.MeteringMetadata,
                WorkerVersion = request.WorkerVersionStamp ?? BuildIdStamp(request.DeploymentOptions),
                VersioningBehavior = request.VersioningBehavior,
            };
            if (request.DeploymentOptions is { DeploymentName.Length: > 0 } deployment)
            {
                completed.WorkflowTaskCompletedEventAttributes.WorkerDeploymentName = deployment.DeploymentName;
                completed.WorkflowTaskCompletedEventAttributes.DeploymentVersion = new Temporalio.Api.Deployment.V1.WorkerDeploymentVersion
                {
                    DeploymentName = deployment.DeploymentName,
                    BuildId = deployment.BuildId,
                };
            }
            run.Append(completed);
            _completedEventId = completed.EventId;
            run.PreviousStartedEventId = run.WftStartedEventId;
            if (_context.Options.StickyDispatch && request.StickyAttributes?.WorkerTaskQueue?.Name is { Length: > 0 } sticky)
            {
                run.StickyQueue = sticky;
                var timeout = request.StickyAttributes.ScheduleToStartTimeout?.ToTimeSpan() ?? TimeSpan.Zero;
                run.StickyScheduleToStart = timeout > TimeSpan.Zero ? timeout : TimeSpan.FromSeconds(10);
            }
            else
            {
                run.StickyQueue = null;
            }
            run.Wft = WorkflowTaskState.None;
            run.WftAttempt = 1;

            foreach (var command in request.Commands)
            {
                if (_closed)
                {
                    break;
                }
                var firstEvent = run.History.Count;
                ApplyCommand(command);
                // The command's event is the first one it wrote: it keeps the command's summary and details
                // (timers, markers, children, ... as the UI shows them).
                if (command.UserMetadata is { } metadata && firstEvent < run.History.Count && run.History[firstEvent].UserMetadata is null)
                {
                    run.History[firstEvent].UserMetadata = metadata;
                }
            }
            if (_closed)
            {
                processor._queries.AnswerInFlight(run, request);
                return;
            }
            UpdateCoordinator.ApplyRejections(run, request);
            foreach (var sideEffect in _sideEffects)
            {
                run.Append(sideEffect);
            }
            var needsTask = _sideEffects.Count > 0;
            needsTask |= WorkflowTaskDispatcher.FlushBuffer(run);
            needsTask |= request.ForceCreateNewWorkflowTask;
            foreach (var update in run.Updates.Values)
            {
                needsTask |= update.Phase == UpdatePhase.Admitted;
            }
            processor._queries.AnswerInFlight(run, request);
            if (needsTask)
            {
                processor._workflowTasks.Schedule(run);
            }
            else
            {
                processor._queries.DispatchWaiting(run);
            }
            run.NotifyHistoryChanged();
        }

        private void Validate()
        {
            var closingSeen = false;
            foreach (var command in request.Commands)
            {
                if (closingSeen)
                {
                    Reject(WorkflowTaskFailedCause.BadCompleteWorkflowExecutionAttributes, "a workflow-closing command must be the last command");
                }
                closingSeen = IsClosingCommand(command.CommandType);
                switch (command.CommandType)
                {
                    case CommandType.ScheduleActivityTask:
                        var activity = command.ScheduleActivityTaskCommandAttributes;
                        if (activity is null || string.IsNullOrEmpty(activity.ActivityId) || string.IsNullOrEmpty(activity.ActivityType?.Name))
                        {
                            Reject(WorkflowTaskFailedCause.BadScheduleActivityAttributes, "ActivityId and ActivityType are required");
                        }
                        else if (Positive(activity.ScheduleToCloseTimeout) == TimeSpan.Zero && Positive(activity.StartToCloseTimeout) == TimeSpan.Zero)
                        {
                            Reject(WorkflowTaskFailedCause.BadScheduleActivityAttributes, "A valid StartToClose or ScheduleToCloseTimeout is not set on ScheduleActivityTaskCommand.");
                        }
                        break;
                    case CommandType.StartTimer:
                        if (command.StartTimerCommandAttributes is not { } timer || string.IsNullOrEmpty(timer.TimerId) || Positive(timer.StartToFireTimeout) == TimeSpan.Zero)
                        {
                            Reject(WorkflowTaskFailedCause.BadStartTimerAttributes, "TimerId and a positive StartToFireTimeout are required");
                        }
                        break;
                    case CommandType.CancelTimer:
                        if (command.CancelTimerCommandAttributes is not { } cancel || !IsKnownTimer(cancel.TimerId))
                        {
                            Reject(WorkflowTaskFailedCause.BadCancelTimerAttributes, "CancelTimer names a timer that is not pending");
                        }
                        break;
                    case CommandType.StartChildWorkflowExecution:
                        var child = command.StartChildWorkflowExecutionCommandAttributes;
                        if (child is null || string.IsNullOrEmpty(child.WorkflowId) || string.IsNullOrEmpty(child.WorkflowType?.Name))
                        {
                            Reject(WorkflowTaskFailedCause.BadStartChildExecutionAttributes, "WorkflowId and WorkflowType are required");
                        }
                        break;
                    case CommandType.ProtocolMessage:
                        if (command.ProtocolMessageCommandAttributes is not { } pm || !_messages.ContainsKey(pm.MessageId))
                        {
                            Reject(WorkflowTaskFailedCause.BadUpdateWorkflowExecutionMessage, "protocol message command references an unknown message");
                        }
                        break;
                    case CommandType.Unspecified:
                        Reject(WorkflowTaskFailedCause.UnhandledCommand, "unknown command type");
                        break;
                    case CommandType.ScheduleNexusOperation:
                    case CommandType.RequestCancelNexusOperation:
                        // Temporal answers a command of a feature it has off by failing the task with FeatureDisabled:
                        // the workflow sees WorkflowTaskFailed and its task is retried, never left without an event.
                        Reject(WorkflowTaskFailedCause.FeatureDisabled, $"{command.CommandType} is not supported: Nexus is not implemented by this server");
                        break;
                    default:
                        if (!IsSupported(command.CommandType))
                        {
                            Reject(WorkflowTaskFailedCause.FeatureDisabled, $"{command.CommandType} is not supported by this server");
                        }
                        break;
                }
            }
        }

        private static bool IsSupported(CommandType type) => type is CommandType.RequestCancelActivityTask or CommandType.RecordMarker
            or CommandType.UpsertWorkflowSearchAttributes or CommandType.ModifyWorkflowProperties or CommandType.SignalExternalWorkflowExecution
            or CommandType.RequestCancelExternalWorkflowExecution or CommandType.CompleteWorkflowExecution or CommandType.FailWorkflowExecution
            or CommandType.CancelWorkflowExecution or CommandType.ContinueAsNewWorkflowExecution;

        /// <summary>A timer can be cancelled while pending, after firing during this task, or when started earlier in this batch.</summary>
        private bool IsKnownTimer(string timerId)
        {
            if (UserTimers.IsPendingOrBuffered(run, timerId))
            {
                return true;
            }
            foreach (var command in request.Commands)
            {
                if (command.CommandType == CommandType.StartTimer && command.StartTimerCommandAttributes.TimerId == timerId)
                {
                    return true;
                }
            }
            return false;
        }

        private static TimeSpan Positive(Duration? duration)
        {
            var value = duration?.ToTimeSpan() ?? TimeSpan.Zero;
            return value > TimeSpan.Zero ? value : TimeSpan.Zero;
        }

        private void Reject(WorkflowTaskFailedCause cause, string message)
        {
            var failed = _context.NewEvent(EventType.WorkflowTaskFailed);
            failed.WorkflowTaskFailedEventAttributes = new WorkflowTaskFailedEventAttributes
            {
                ScheduledEventId = run.WftScheduledEventId,
                StartedEventId = run.WftStartedEventId,
                Cause = cause,
                Failure = new Failure { Message = message },
                Identity = request.Identity ?? string.Empty,
            };
            processor._workflowTasks.EndUnsuccessfully(run, failed, nextAttempt: run.WftAttempt + 1);
            throw new InvalidRequestException(message);
        }

        /// <summary>
        /// Closing the run while events wait in the buffer would lose them (a signal sent just before
        /// completion): the task fails with UnhandledCommand and the workflow sees them first.
        /// </summary>
        private bool HasUnhandledEvents()
        {
            var closing = request.Commands.Count > 0 && IsClosingCommand(request.Commands[^1].CommandType);
            if (!closing)
            {
                return false;
            }
            foreach (var buffered in run.Buffer)
            {
                if (buffered.EventType == EventType.TimerFired && IsCancelledInThisTask(buffered.TimerFiredEventAttributes.TimerId))
                {
                    continue;
                }
                return true;
            }
            return false;
        }

        private bool IsCancelledInThisTask(string timerId)
        {
            foreach (var command in request.Commands)
            {
                if (command.CommandType == CommandType.CancelTimer && command.CancelTimerCommandAttributes.TimerId == timerId)
                {
                    return true;
                }
            }
            return false;
        }

        /// <summary>The worker's build id (sent in its deployment options) as the completed event records it; workflows read it back on replay.</summary>
        private static Temporalio.Api.Common.V1.WorkerVersionStamp? BuildIdStamp(Temporalio.Api.Deployment.V1.WorkerDeploymentOptions? options) =>
            options is { BuildId.Length: > 0 }
                ? new Temporalio.Api.Common.V1.WorkerVersionStamp
                {
                    BuildId = options.BuildId,
                    UseVersioning = options.WorkerVersioningMode == WorkerVersioningMode.Versioned,
                }
                : null;

        private void ApplyCommand(Command command)
        {
            switch (command.CommandType)
            {
                case CommandType.ScheduleActivityTask:
                    processor._activities.Schedule(run, command.ScheduleActivityTaskCommandAttributes, _completedEventId, command.UserMetadata);
                    break;
                case CommandType.RequestCancelActivityTask:
                    var cancelled = processor._activities.RequestCancel(run, command.RequestCancelActivityTaskCommandAttributes.ScheduledEventId, _completedEventId);
                    if (cancelled is not null)
                    {
                        _sideEffects.Add(cancelled);
                    }
                    break;
                case CommandType.StartTimer:
                    processor._timers.Start(run, command.StartTimerCommandAttributes, _completedEventId);
                    break;
                case CommandType.CancelTimer:
                    processor._timers.Cancel(run, command.CancelTimerCommandAttributes.TimerId, _completedEventId, request.Identity);
                    break;
                case CommandType.RecordMarker:
                    var marker = command.RecordMarkerCommandAttributes;
                    var markerEvent = _context.NewEvent(EventType.MarkerRecorded);
                    markerEvent.MarkerRecordedEventAttributes = new MarkerRecordedEventAttributes
                    {
                        MarkerName = marker.MarkerName,
                        Details = { marker.Details },
                        Header = marker.Header,
                        Failure = marker.Failure,
                        WorkflowTaskCompletedEventId = _completedEventId,
                    };
                    run.Append(markerEvent);
                    break;
                case CommandType.UpsertWorkflowSearchAttributes:
                    var upsert = command.UpsertWorkflowSearchAttributesCommandAttributes;
                    var upsertEvent = _context.NewEvent(EventType.UpsertWorkflowSearchAttributes);
                    upsertEvent.UpsertWorkflowSearchAttributesEventAttributes = new UpsertWorkflowSearchAttributesEventAttributes
                    {
                        SearchAttributes = upsert.SearchAttributes,
                        WorkflowTaskCompletedEventId = _completedEventId,
                    };
                    run.Append(upsertEvent);
                    if (upsert.SearchAttributes is not null)
                    {
                        run.MergeSearchAttributes(upsert.SearchAttributes);
                    }
                    break;
                case CommandType.ModifyWorkflowProperties:
                    var modify = command.ModifyWorkflowPropertiesCommandAttributes;
                    var modifyEvent = _context.NewEvent(EventType.WorkflowPropertiesModified);
                    modifyEvent.WorkflowPropertiesModifiedEventAttributes = new WorkflowPropertiesModifiedEventAttributes
                    {
                        UpsertedMemo = modify.UpsertedMemo,
                        WorkflowTaskCompletedEventId = _completedEventId,
                    };
                    run.Append(modifyEvent);
                    if (modify.UpsertedMemo is not null)
                    {
                        run.MergeMemo(modify.UpsertedMemo);
                    }
                    break;
                case CommandType.StartChildWorkflowExecution:
                    processor._children.Initiate(run, command.StartChildWorkflowExecutionCommandAttributes, _completedEventId);
                    break;
                case CommandType.SignalExternalWorkflowExecution:
                    processor._externalRequests.Signal(run, command.SignalExternalWorkflowExecutionCommandAttributes, _completedEventId);
                    break;
                case CommandType.RequestCancelExternalWorkflowExecution:
                    processor._externalRequests.Cancel(run, command.RequestCancelExternalWorkflowExecutionCommandAttributes, _completedEventId);
                    break;
                case CommandType.ProtocolMessage:
                    processor._updates.ApplyMessage(run, _messages[command.ProtocolMessageCommandAttributes.MessageId]);
                    break;
                case CommandType.CompleteWorkflowExecution:
                    var completedEvent = _context.NewEvent(EventType.WorkflowExecutionCompleted);
                    completedEvent.WorkflowExecutionCompletedEventAttributes = new WorkflowExecutionCompletedEventAttributes
                    {
                        Result = command.CompleteWorkflowExecutionCommandAttributes.Result,
                        WorkflowTaskCompletedEventId = _completedEventId,
                    };
                    processor._lifecycle.Complete(run, completedEvent);
                    _closed = true;
                    break;
                case CommandType.FailWorkflowExecution:
                    processor._lifecycle.Fail(run, command.FailWorkflowExecutionCommandAttributes.Failure, _completedEventId);
                    _closed = true;
                    break;
                case CommandType.CancelWorkflowExecution:
                    var canceledEvent = _context.NewEvent(EventType.WorkflowExecutionCanceled);
                    canceledEvent.WorkflowExecutionCanceledEventAttributes = new WorkflowExecutionCanceledEventAttributes
                    {
                        Details = command.CancelWorkflowExecutionCommandAttributes.Details,
                        WorkflowTaskCompletedEventId = _completedEventId,
                    };
                    processor._lifecycle.Complete(run, canceledEvent);
                    _closed = true;
                    break;
                case CommandType.ContinueAsNewWorkflowExecution:
                    processor._lifecycle.ContinueAsNew(run, command.ContinueAsNewWorkflowExecutionCommandAttributes, _completedEventId);
                    _closed = true;
                    break;
                default:
                    throw new InvalidRequestException($"command {command.CommandType} is not supported by the dev server");
            }
        }
    }
}

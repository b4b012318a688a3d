using AgentOrchestrator.DevServer.Grpc;
using Google.Protobuf.WellKnownTypes;
using Temporalio.Api.Command.V1;
using Temporalio.Api.Common.V1;
using Temporalio.Api.Enums.V1;
using Temporalio.Api.Failure.V1;
using Temporalio.Api.History.V1;
using Temporalio.Api.Protocol.V1;
using Temporalio.Api.Update.V1;
using Temporalio.Api.WorkflowService.V1;

namespace AgentOrchestrator.DevServer.Engine;

internal sealed partial class WorkflowEngine
{
    /// <summary>
    /// Applies one RespondWorkflowTaskCompleted: WorkflowTaskCompleted, then one event per command in
    /// command order, then side effects and buffered events, then the next workflow task if one is due.
    /// </summary>
    private sealed class WorkflowTaskCompletion(WorkflowEngine engine, WorkflowRun run, RespondWorkflowTaskCompletedRequest request)
    {
        private readonly Dictionary<string, Message> _messages = IndexMessages(request);
        private readonly List<HistoryEvent> _sideEffects = [];
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
                var failed = engine.NewEvent(EventType.WorkflowTaskFailed);
                failed.WorkflowTaskFailedEventAttributes = new WorkflowTaskFailedEventAttributes
                {
                    ScheduledEventId = run.WftScheduledEventId,
                    StartedEventId = run.WftStartedEventId,
                    Cause = WorkflowTaskFailedCause.UnhandledCommand,
                    Identity = request.Identity ?? string.Empty,
                };
                engine.EndWorkflowTaskUnsuccessfully(run, failed, nextAttempt: 1);
                throw GrpcErrors.InvalidArgument("UnhandledCommand");
            }

            run.WftTimeoutTimer?.Dispose();
            var completed = engine.NewEvent(EventType.WorkflowTaskCompleted);
            completed.WorkflowTaskCompletedEventAttributes = new WorkflowTaskCompletedEventAttributes
            {
                ScheduledEventId = run.WftScheduledEventId,
                StartedEventId = run.WftStartedEventId,
                Identity = request.Identity ?? string.Empty,
                BinaryChecksum = request.BinaryChecksum ?? string.Empty,
                SdkMetadata = request.SdkMetadata,
                MeteringMetadata = request.MeteringMetadata,
                WorkerVersion = request.WorkerVersionStamp,
                VersioningBehavior = request.VersioningBehavior,
            };
            run.Append(completed);
            _completedEventId = completed.EventId;
            run.PreviousStartedEventId = run.WftStartedEventId;
            if (engine.Options.StickyDispatch && request.StickyAttributes?.WorkerTaskQueue?.Name is { Length: > 0 } sticky)
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
                ApplyCommand(command);
            }
            if (_closed)
            {
                AnswerQueries();
                return;
            }
            ApplyUnreferencedMessages();
            foreach (var sideEffect in _sideEffects)
            {
                run.Append(sideEffect);
            }
            var needsTask = _sideEffects.Count > 0;
            needsTask |= FlushBuffer(run);
            needsTask |= request.ForceCreateNewWorkflowTask;
            foreach (var update in run.Updates.Values)
            {
                needsTask |= update.Phase == UpdatePhase.Admitted;
            }
            AnswerQueries();
            if (needsTask)
            {
                engine.ScheduleWorkflowTask(run);
            }
            else
            {
                // Queries that arrived during the task and have no task to ride on go out as query tasks.
                foreach (var query in run.QueriesForNextTask)
                {
                    engine.DispatchLegacyQuery(run, query);
                }
                run.QueriesForNextTask.Clear();
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
                }
            }
        }

        /// <summary>A timer can be cancelled while pending, after firing during this task, or when started earlier in this batch.</summary>
        private bool IsKnownTimer(string timerId)
        {
            if (run.Timers.ContainsKey(timerId) || run.Buffer.Exists(e => e.EventType == EventType.TimerFired && e.TimerFiredEventAttributes.TimerId == timerId))
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
            var failed = engine.NewEvent(EventType.WorkflowTaskFailed);
            failed.WorkflowTaskFailedEventAttributes = new WorkflowTaskFailedEventAttributes
            {
                ScheduledEventId = run.WftScheduledEventId,
                StartedEventId = run.WftStartedEventId,
                Cause = cause,
                Failure = new Failure { Message = message },
                Identity = request.Identity ?? string.Empty,
            };
            engine.EndWorkflowTaskUnsuccessfully(run, failed, nextAttempt: run.WftAttempt + 1);
            throw GrpcErrors.InvalidArgument(message);
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

        private void ApplyCommand(Command command)
        {
            switch (command.CommandType)
            {
                case CommandType.ScheduleActivityTask:
                    engine.ScheduleActivity(run, command.ScheduleActivityTaskCommandAttributes, _completedEventId, command.UserMetadata);
                    break;
                case CommandType.RequestCancelActivityTask:
                    var cancelled = engine.RequestCancelActivity(run, command.RequestCancelActivityTaskCommandAttributes.ScheduledEventId, _completedEventId);
                    if (cancelled is not null)
                    {
                        _sideEffects.Add(cancelled);
                    }
                    break;
                case CommandType.StartTimer:
                    engine.StartUserTimer(run, command.StartTimerCommandAttributes, _completedEventId);
                    break;
                case CommandType.CancelTimer:
                    engine.CancelUserTimer(run, command.CancelTimerCommandAttributes.TimerId, _completedEventId, request.Identity);
                    break;
                case CommandType.RecordMarker:
                    var marker = command.RecordMarkerCommandAttributes;
                    var markerEvent = engine.NewEvent(EventType.MarkerRecorded);
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
                    var upsertEvent = engine.NewEvent(EventType.UpsertWorkflowSearchAttributes);
                    upsertEvent.UpsertWorkflowSearchAttributesEventAttributes = new UpsertWorkflowSearchAttributesEventAttributes
                    {
                        SearchAttributes = upsert.SearchAttributes,
                        WorkflowTaskCompletedEventId = _completedEventId,
                    };
                    run.Append(upsertEvent);
                    if (upsert.SearchAttributes is not null)
                    {
                        MergeSearchAttributes(run, upsert.SearchAttributes);
                    }
                    break;
                case CommandType.ModifyWorkflowProperties:
                    var modify = command.ModifyWorkflowPropertiesCommandAttributes;
                    var modifyEvent = engine.NewEvent(EventType.WorkflowPropertiesModified);
                    modifyEvent.WorkflowPropertiesModifiedEventAttributes = new WorkflowPropertiesModifiedEventAttributes
                    {
                        UpsertedMemo = modify.UpsertedMemo,
                        WorkflowTaskCompletedEventId = _completedEventId,
                    };
                    run.Append(modifyEvent);
                    if (modify.UpsertedMemo is not null)
                    {
                        foreach (var (key, value) in modify.UpsertedMemo.Fields)
                        {
                            run.MemoValues[key] = value;
                        }
                    }
                    break;
                case CommandType.StartChildWorkflowExecution:
                    engine.InitiateChild(run, command.StartChildWorkflowExecutionCommandAttributes, _completedEventId);
                    break;
                case CommandType.SignalExternalWorkflowExecution:
                    engine.InitiateExternalSignal(run, command.SignalExternalWorkflowExecutionCommandAttributes, _completedEventId);
                    break;
                case CommandType.RequestCancelExternalWorkflowExecution:
                    engine.InitiateExternalCancel(run, command.RequestCancelExternalWorkflowExecutionCommandAttributes, _completedEventId);
                    break;
                case CommandType.ProtocolMessage:
                    ApplyProtocolMessage(_messages[command.ProtocolMessageCommandAttributes.MessageId]);
                    break;
                case CommandType.CompleteWorkflowExecution:
                    var completedEvent = engine.NewEvent(EventType.WorkflowExecutionCompleted);
                    completedEvent.WorkflowExecutionCompletedEventAttributes = new WorkflowExecutionCompletedEventAttributes
                    {
                        Result = command.CompleteWorkflowExecutionCommandAttributes.Result,
                        WorkflowTaskCompletedEventId = _completedEventId,
                    };
                    engine.CloseRun(run, WorkflowExecutionStatus.Completed, completedEvent, chainContinues: false);
                    _closed = true;
                    break;
                case CommandType.FailWorkflowExecution:
                    engine.FailWorkflow(run, command.FailWorkflowExecutionCommandAttributes.Failure, _completedEventId);
                    _closed = true;
                    break;
                case CommandType.CancelWorkflowExecution:
                    var canceledEvent = engine.NewEvent(EventType.WorkflowExecutionCanceled);
                    canceledEvent.WorkflowExecutionCanceledEventAttributes = new WorkflowExecutionCanceledEventAttributes
                    {
                        Details = command.CancelWorkflowExecutionCommandAttributes.Details,
                        WorkflowTaskCompletedEventId = _completedEventId,
                    };
                    engine.CloseRun(run, WorkflowExecutionStatus.Canceled, canceledEvent, chainContinues: false);
                    _closed = true;
                    break;
                case CommandType.ContinueAsNewWorkflowExecution:
                    engine.ContinueAsNew(run, command.ContinueAsNewWorkflowExecutionCommandAttributes, _completedEventId);
                    _closed = true;
                    break;
                default:
                    throw GrpcErrors.InvalidArgument($"command {command.CommandType} is not supported by the dev server");
            }
        }

        private void ApplyProtocolMessage(Message message)
        {
            if (!run.Updates.TryGetValue(message.ProtocolInstanceId, out var update))
            {
                return;
            }
            if (message.Body.Is(Acceptance.Descriptor))
            {
                var acceptance = message.Body.Unpack<Acceptance>();
                var accepted = engine.NewEvent(EventType.WorkflowExecutionUpdateAccepted);
                accepted.WorkflowExecutionUpdateAcceptedEventAttributes = new WorkflowExecutionUpdateAcceptedEventAttributes
                {
                    ProtocolInstanceId = update.UpdateId,
                    AcceptedRequestMessageId = acceptance.AcceptedRequestMessageId,
                    AcceptedRequestSequencingEventId = acceptance.AcceptedRequestSequencingEventId,
                    AcceptedRequest = acceptance.AcceptedRequest ?? update.Request,
                };
                run.Append(accepted);
                update.AcceptedEventId = accepted.EventId;
                update.Phase = UpdatePhase.Accepted;
                update.NotifyChanged();
            }
            else if (message.Body.Is(Response.Descriptor))
            {
                var response = message.Body.Unpack<Response>();
                var completedEvent = engine.NewEvent(EventType.WorkflowExecutionUpdateCompleted);
                completedEvent.WorkflowExecutionUpdateCompletedEventAttributes = new WorkflowExecutionUpdateCompletedEventAttributes
                {
                    Meta = response.Meta,
                    AcceptedEventId = update.AcceptedEventId,
                    Outcome = response.Outcome,
                };
                run.Append(completedEvent);
                update.Outcome = response.Outcome;
                update.Phase = UpdatePhase.Completed;
                update.NotifyChanged();
            }
        }

        /// <summary>Rejections travel without a command and write no event.</summary>
        private void ApplyUnreferencedMessages()
        {
            foreach (var message in request.Messages)
            {
                if (!message.Body.Is(Rejection.Descriptor) || !run.Updates.TryGetValue(message.ProtocolInstanceId, out var update))
                {
                    continue;
                }
                var rejection = message.Body.Unpack<Rejection>();
                update.Outcome = new Outcome { Failure = rejection.Failure };
                update.Phase = UpdatePhase.Completed;
                update.NotifyChanged();
            }
            // A delivered update the worker neither accepted nor rejected is rejected, as the real server does.
            foreach (var update in run.Updates.Values)
            {
                if (update.Phase == UpdatePhase.Delivered)
                {
                    update.Outcome = new Outcome
                    {
                        Failure = new Failure
                        {
                            Message = "Workflow Update is rejected because it wasn't processed by worker. Probably, Workflow Update is not supported by the worker.",
                            ApplicationFailureInfo = new ApplicationFailureInfo(),
                        },
                    };
                    update.Phase = UpdatePhase.Completed;
                    update.NotifyChanged();
                }
            }
        }

        private void AnswerQueries()
        {
            foreach (var query in run.QueriesInFlight)
            {
                if (request.QueryResults.TryGetValue(query.QueryId, out var result))
                {
                    query.Result.TrySetResult(result);
                }
                else if (run.IsOpen)
                {
                    run.QueriesForNextTask.Add(query);
                }
                else
                {
                    engine.DispatchLegacyQuery(run, query);
                }
            }
            run.QueriesInFlight.Clear();
        }
    }
}

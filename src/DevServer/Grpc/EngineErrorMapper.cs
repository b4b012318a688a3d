using AgentOrchestrator.DevServer.Engine.Errors;
using AgentOrchestrator.DevServer.Visibility;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Temporalio.Api.ErrorDetails.V1;

namespace AgentOrchestrator.DevServer.Grpc;

/// <summary>Turns the engine's typed refusals into the status codes and details the real server sends.</summary>
internal static class EngineErrorMapper
{
    public static RpcException ToRpcException(Exception error) => error switch
    {
        NotFoundException notFound => GrpcErrors.NotFound(notFound.Message),
        InvalidRequestException invalid => GrpcErrors.InvalidArgument(invalid.Message),
        VisibilityQueryException query => GrpcErrors.InvalidArgument(query.Message),
        WorkflowAlreadyStartedException started => GrpcErrors.WithDetail(StatusCode.AlreadyExists, started.Message,
            new WorkflowExecutionAlreadyStartedFailure { StartRequestId = started.StartRequestId, RunId = started.RunId }),
        WorkflowClosingException closing => new RpcException(new Status(StatusCode.Unavailable, closing.Message)),
        QueryFailedException failed => GrpcErrors.WithDetail(StatusCode.InvalidArgument, failed.Message, new QueryFailedFailure { Failure = failed.Failure }),
        QueryTimedOutException timedOut => new RpcException(new Status(StatusCode.DeadlineExceeded, timedOut.Message)),
        MultiOperationException multi => MultiOperationFailure(multi),
        _ => throw new ArgumentException($"not an engine error: {error.GetType().Name}", nameof(error)),
    };

    public static bool IsEngineError(Exception error) => error is EngineException or VisibilityQueryException;

    /// <summary>The SDK unpacks the failed operation's status; every other operation is reported aborted.</summary>
    private static RpcException MultiOperationFailure(MultiOperationException error)
    {
        var cause = ToRpcException(error.Cause);
        var failure = new MultiOperationExecutionFailure();
        for (var i = 0; i < error.OperationCount; i++)
        {
            var status = new MultiOperationExecutionFailure.Types.OperationStatus();
            if (i == error.FailedIndex)
            {
                status.Code = (int)cause.StatusCode;
                status.Message = cause.Status.Detail;
                if (cause.GetRpcStatus() is { } rpcStatus)
                {
                    status.Details.AddRange(rpcStatus.Details);
                }
            }
            else
            {
                status.Code = (int)StatusCode.Aborted;
                status.Message = "Operation was aborted.";
                status.Details.Add(Any.Pack(new Temporalio.Api.Failure.V1.MultiOperationExecutionAborted()));
            }
            failure.Statuses.Add(status);
        }
        return GrpcErrors.WithDetail(cause.StatusCode, error.Message, failure);
    }
}

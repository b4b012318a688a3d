using AgentOrchestrator.DevServer.Engine.Errors;
using AgentOrchestrator.DevServer.Grpc;
using AgentOrchestrator.DevServer.Visibility;
using Grpc.Core;
using Temporalio.Api.ErrorDetails.V1;
using Temporalio.Api.Failure.V1;

namespace AgentOrchestrator.DevServer.Tests.Grpc;

/// <summary>Each engine refusal becomes the status code and single detail the SDK reads as a typed error.</summary>
public sealed class EngineErrorMapperTests
{
    [Fact]
    public void ToRpcException_SimpleRefusals_MapToTheirStatusCodes()
    {
        Assert.Equal(StatusCode.NotFound, EngineErrorMapper.ToRpcException(NotFoundException.WorkflowCompleted()).StatusCode);
        Assert.Equal(StatusCode.InvalidArgument, EngineErrorMapper.ToRpcException(new InvalidRequestException("bad")).StatusCode);
        Assert.Equal(StatusCode.InvalidArgument, EngineErrorMapper.ToRpcException(new VisibilityQueryException("bad query")).StatusCode);
        Assert.Equal(StatusCode.Unavailable, EngineErrorMapper.ToRpcException(new WorkflowClosingException()).StatusCode);
        Assert.Equal(StatusCode.DeadlineExceeded, EngineErrorMapper.ToRpcException(new QueryTimedOutException()).StatusCode);
        Assert.Equal("workflow execution not found for workflow ID \"w\" and run ID \"r\"",
            EngineErrorMapper.ToRpcException(NotFoundException.Workflow("w", "r")).Status.Detail);
    }

    [Fact]
    public void ToRpcException_AlreadyStarted_CarriesTheRunningRunAsItsOnlyDetail()
    {
        var error = EngineErrorMapper.ToRpcException(new WorkflowAlreadyStartedException("running", "request-1", "run-1"));

        Assert.Equal(StatusCode.AlreadyExists, error.StatusCode);
        var detail = Assert.Single(error.GetRpcStatus()!.Details);
        var started = detail.Unpack<WorkflowExecutionAlreadyStartedFailure>();
        Assert.Equal("request-1", started.StartRequestId);
        Assert.Equal("run-1", started.RunId);
    }

    [Fact]
    public void ToRpcException_QueryFailed_CarriesTheWorkflowFailure()
    {
        var error = EngineErrorMapper.ToRpcException(new QueryFailedException("handler threw", new Failure { Message = "boom" }));

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Equal("boom", Assert.Single(error.GetRpcStatus()!.Details).Unpack<QueryFailedFailure>().Failure.Message);
    }

    [Fact]
    public void ToRpcException_MultiOperation_ReportsTheFailedOperationAndAbortsTheOther()
    {
        var error = EngineErrorMapper.ToRpcException(new MultiOperationException(0, 2, new WorkflowAlreadyStartedException("running", "request-1", "run-1")));

        Assert.Equal(StatusCode.AlreadyExists, error.StatusCode);
        var failure = Assert.Single(error.GetRpcStatus()!.Details).Unpack<MultiOperationExecutionFailure>();
        Assert.Equal((int)StatusCode.AlreadyExists, failure.Statuses[0].Code);
        Assert.Equal("run-1", Assert.Single(failure.Statuses[0].Details).Unpack<WorkflowExecutionAlreadyStartedFailure>().RunId);
        Assert.Equal((int)StatusCode.Aborted, failure.Statuses[1].Code);
        Assert.True(Assert.Single(failure.Statuses[1].Details).Is(MultiOperationExecutionAborted.Descriptor));
    }
}

using System.Net;
using AgentOrchestrator.TestSupport;
using Temporalio.Api.WorkflowService.V1;
using Temporalio.Exceptions;

namespace AgentOrchestrator.DevServer.Tests;

/// <summary>What a client sees for RPCs the server does not implement and for requests it cannot accept.</summary>
public sealed class GrpcSurfaceTests(DevServerFixture server) : IClassFixture<DevServerFixture>
{
    [Fact]
    public async Task UnimplementedRpc_AnswersUnimplementedNamingTheRpc()
    {
        var client = await server.ConnectClientAsync();

        var error = await Assert.ThrowsAsync<RpcException>(() =>
            client.Connection.WorkflowService.ListSchedulesAsync(new ListSchedulesRequest { Namespace = server.Namespace }));

        Assert.Equal(RpcException.StatusCode.Unimplemented, error.Code);
        Assert.Contains("unknown method temporal.api.workflowservice.v1.WorkflowService/ListSchedules", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StartWithoutWorkflowId_AnswersInvalidArgumentWithReason()
    {
        var client = await server.ConnectClientAsync();

        var error = await Assert.ThrowsAsync<RpcException>(() => client.Connection.WorkflowService.StartWorkflowExecutionAsync(
            new StartWorkflowExecutionRequest
            {
                Namespace = server.Namespace,
                WorkflowType = new Temporalio.Api.Common.V1.WorkflowType { Name = "Anything" },
                TaskQueue = new Temporalio.Api.TaskQueue.V1.TaskQueue { Name = "tq" },
                RequestId = Guid.NewGuid().ToString(),
            }));

        Assert.Equal(RpcException.StatusCode.InvalidArgument, error.Code);
        Assert.Contains("WorkflowId", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MalformedProtobuf_AnswersInvalidArgument()
    {
        using var http = new HttpClient();
        // A gRPC frame (uncompressed, length 4) whose payload is not a valid protobuf message.
        var body = new ByteArrayContent([0, 0, 0, 0, 4, 0xFF, 0xFF, 0xFF, 0xFF]);
        body.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/grpc");
        using var request = new HttpRequestMessage(HttpMethod.Post, $"http://{server.Target}/temporal.api.workflowservice.v1.WorkflowService/StartWorkflowExecution")
        {
            Content = body,
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        request.Headers.TryAddWithoutValidation("te", "trailers");

        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseContentRead);

        var status = response.TrailingHeaders.TryGetValues("grpc-status", out var trailer) ? trailer.Single()
            : response.Headers.GetValues("grpc-status").Single();
        Assert.Equal("3", status);
    }
}

using System.Net;
using AgentOrchestrator.TestSupport;
using Google.Protobuf;
using Grpc.Health.V1;
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
            client.Connection.WorkflowService.ListBatchOperationsAsync(new ListBatchOperationsRequest { Namespace = server.Namespace }));

        Assert.Equal(RpcException.StatusCode.Unimplemented, error.Code);
        Assert.Contains("unknown method temporal.api.workflowservice.v1.WorkflowService/ListBatchOperations", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("", HealthCheckResponse.Types.ServingStatus.Serving)]
    [InlineData("temporal.api.workflowservice.v1.WorkflowService", HealthCheckResponse.Types.ServingStatus.Serving)]
    [InlineData("temporal.api.operatorservice.v1.OperatorService", HealthCheckResponse.Types.ServingStatus.Serving)]
    public async Task HealthCheck_ServerAndItsServices_AreServing(string service, HealthCheckResponse.Types.ServingStatus expected)
    {
        var (status, response) = await CallAsync("/grpc.health.v1.Health/Check", new HealthCheckRequest { Service = service });

        Assert.Equal("0", status);
        Assert.Equal(expected, HealthCheckResponse.Parser.ParseFrom(response).Status);
    }

    [Fact]
    public async Task HealthCheck_UnknownService_IsNotFound()
    {
        var (status, _) = await CallAsync("/grpc.health.v1.Health/Check", new HealthCheckRequest { Service = "no.such.Service" });

        Assert.Equal("5", status);
    }

    [Fact]
    public async Task GetClusterInfo_NamesAServerNewEnoughForTheUisAdvancedVisibility()
    {
        var client = await server.ConnectClientAsync();

        var info = await client.Connection.WorkflowService.GetClusterInfoAsync(new GetClusterInfoRequest());

        Assert.Equal("1.29.0", info.ServerVersion);
        Assert.False(string.IsNullOrEmpty(info.ClusterId));
        Assert.Equal("active", info.ClusterName);
        Assert.Contains("temporal-ui", info.SupportedClients.Keys);
        var system = await client.Connection.WorkflowService.GetSystemInfoAsync(new GetSystemInfoRequest());
        Assert.True(system.Capabilities.SupportsSchedules);
        Assert.True(system.Capabilities.CountGroupByExecutionStatus);
    }

    /// <summary>One unary call over plain HTTP/2: returns grpc-status and the response message's bytes.</summary>
    private async Task<(string Status, byte[] Message)> CallAsync(string path, IMessage request)
    {
        using var http = new HttpClient();
        var payload = request.ToByteArray();
        var frame = new byte[5 + payload.Length];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(frame.AsSpan(1), payload.Length);
        payload.CopyTo(frame, 5);
        var body = new ByteArrayContent(frame);
        body.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/grpc");
        using var message = new HttpRequestMessage(HttpMethod.Post, $"http://{server.Target}{path}")
        {
            Content = body,
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        message.Headers.TryAddWithoutValidation("te", "trailers");
        using var response = await http.SendAsync(message, HttpCompletionOption.ResponseContentRead);
        var bytes = await response.Content.ReadAsByteArrayAsync();
        var status = response.TrailingHeaders.TryGetValues("grpc-status", out var trailer) ? trailer.Single()
            : response.Headers.GetValues("grpc-status").Single();
        return (status, bytes.Length >= 5 ? bytes[5..] : []);
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

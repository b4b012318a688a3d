using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;

namespace AgentOrchestrator.DevServer.Grpc;

/// <summary>
/// gRPC errors shaped like the real server's: the SDK only treats an error as typed when
/// grpc-status-details-bin holds exactly one detail.
/// </summary>
internal static class GrpcErrors
{
    public static RpcException NotFound(string message) => new(new Status(StatusCode.NotFound, message));

    public static RpcException InvalidArgument(string message) => new(new Status(StatusCode.InvalidArgument, message));

    public static RpcException Unimplemented(string method) =>
        new(new Status(StatusCode.Unimplemented, $"unknown method {method}"));

    public static RpcException WithDetail(StatusCode code, string message, IMessage detail)
    {
        var status = new Google.Rpc.Status { Code = (int)code, Message = message, Details = { Any.Pack(detail) } };
        return status.ToRpcException();
    }
}

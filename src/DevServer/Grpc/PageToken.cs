using System.Globalization;
using Google.Protobuf;

namespace AgentOrchestrator.DevServer.Grpc;

/// <summary>Page tokens for lists served from memory: the position of the next item, as text.</summary>
internal static class PageToken
{
    public static ByteString Offset(int offset) => ByteString.CopyFromUtf8(offset.ToString(CultureInfo.InvariantCulture));

    public static int ReadOffset(ByteString token) =>
        token.IsEmpty ? 0
        : int.TryParse(token.ToStringUtf8(), NumberStyles.None, CultureInfo.InvariantCulture, out var offset) ? offset
        : throw GrpcErrors.InvalidArgument("invalid next page token");
}

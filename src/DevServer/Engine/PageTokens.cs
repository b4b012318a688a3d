using System.Globalization;
using AgentOrchestrator.DevServer.Engine.Errors;
using Google.Protobuf;

namespace AgentOrchestrator.DevServer.Engine;

/// <summary>Page tokens of history and list calls: the 1-based position of the next item.</summary>
internal static class PageTokens
{
    public static ByteString For(long next) => ByteString.CopyFromUtf8(next.ToString(CultureInfo.InvariantCulture));

    public static int Parse(ByteString token)
    {
        if (token.IsEmpty)
        {
            return 1;
        }
        return int.TryParse(token.ToStringUtf8(), NumberStyles.None, CultureInfo.InvariantCulture, out var next) && next > 0
            ? next
            : throw new InvalidRequestException("invalid next page token");
    }
}

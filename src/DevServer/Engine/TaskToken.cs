using System.Globalization;
using System.Text;
using Google.Protobuf;

namespace AgentOrchestrator.DevServer.Engine;

/// <summary>
/// Opaque task tokens: enough to find the run and reject stale attempts
/// (kind | namespace | workflow id | run id | scheduled event id | attempt).
/// </summary>
internal readonly record struct TaskToken(char Kind, string Namespace, string WorkflowId, string RunId, long ScheduledEventId, int Attempt)
{
    public const char WorkflowTask = 'W';
    public const char ActivityTask = 'A';
    public const char QueryTask = 'Q';

    public ByteString ToByteString() => ByteString.CopyFromUtf8(string.Join('\u001f',
        Kind.ToString(), Namespace, WorkflowId, RunId,
        ScheduledEventId.ToString(CultureInfo.InvariantCulture), Attempt.ToString(CultureInfo.InvariantCulture)));

    public static TaskToken Parse(ByteString token, char expectedKind)
    {
        var parts = Encoding.UTF8.GetString(token.Span).Split('\u001f');
        if (parts.Length != 6 || parts[0].Length != 1 || parts[0][0] != expectedKind ||
            !long.TryParse(parts[4], CultureInfo.InvariantCulture, out var scheduled) ||
            !int.TryParse(parts[5], CultureInfo.InvariantCulture, out var attempt))
        {
            throw new Errors.InvalidRequestException("malformed task token");
        }
        return new TaskToken(parts[0][0], parts[1], parts[2], parts[3], scheduled, attempt);
    }
}

using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Temporalio.Api.Common.V1;
using Temporalio.Api.Schedule.V1;

namespace AgentOrchestrator.DevServer.Schedules;

/// <summary>
/// A schedule's stored form: protobuf fields 1 namespace, 2 schedule id, 3 schedule, 4 info, 5 memo, 6 search
/// attributes, 7 conflict token, 8 catch-up point, 9 (repeated) buffered nominal times, 10 last completion result,
/// 11 last failure.
/// </summary>
internal static class ScheduleRecord
{
    public static byte[] Write(ScheduleEntry entry)
    {
        using var buffer = new MemoryStream();
        var output = new CodedOutputStream(buffer);
        output.WriteTag(1, WireFormat.WireType.LengthDelimited);
        output.WriteString(entry.Namespace);
        output.WriteTag(2, WireFormat.WireType.LengthDelimited);
        output.WriteString(entry.ScheduleId);
        WriteMessage(output, 3, entry.Schedule);
        WriteMessage(output, 4, entry.Info);
        WriteMessage(output, 5, entry.Memo);
        WriteMessage(output, 6, entry.SearchAttributes);
        output.WriteTag(7, WireFormat.WireType.Varint);
        output.WriteInt64(entry.ConflictToken);
        WriteMessage(output, 8, Timestamp.FromDateTimeOffset(entry.LastProcessed));
        foreach (var nominal in entry.Buffer)
        {
            WriteMessage(output, 9, Timestamp.FromDateTimeOffset(nominal));
        }
        WriteMessage(output, 10, entry.LastCompletionResult);
        WriteMessage(output, 11, entry.LastFailure);
        output.Flush();
        return buffer.ToArray();
    }

    public static ScheduleEntry Read(byte[] value)
    {
        var input = new CodedInputStream(value);
        string ns = string.Empty, id = string.Empty;
        Schedule schedule = new();
        ScheduleInfo? info = null;
        Memo? memo = null;
        SearchAttributes? searchAttributes = null;
        long token = 1;
        var lastProcessed = DateTimeOffset.MinValue;
        var buffered = new List<DateTimeOffset>();
        Payloads? lastResult = null;
        Temporalio.Api.Failure.V1.Failure? lastFailure = null;
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            switch (WireFormat.GetTagFieldNumber(tag))
            {
                case 1: ns = input.ReadString(); break;
                case 2: id = input.ReadString(); break;
                case 3: input.ReadMessage(schedule); break;
                case 4: info = new ScheduleInfo(); input.ReadMessage(info); break;
                case 5: memo = new Memo(); input.ReadMessage(memo); break;
                case 6: searchAttributes = new SearchAttributes(); input.ReadMessage(searchAttributes); break;
                case 7: token = input.ReadInt64(); break;
                case 8: var at = new Timestamp(); input.ReadMessage(at); lastProcessed = at.ToDateTimeOffset(); break;
                case 9: var nominal = new Timestamp(); input.ReadMessage(nominal); buffered.Add(nominal.ToDateTimeOffset()); break;
                case 10: lastResult = new Payloads(); input.ReadMessage(lastResult); break;
                case 11: lastFailure = new Temporalio.Api.Failure.V1.Failure(); input.ReadMessage(lastFailure); break;
                default: input.SkipLastField(); break;
            }
        }
        var entry = new ScheduleEntry(ns, id)
        {
            Schedule = schedule,
            Memo = memo,
            SearchAttributes = searchAttributes,
            ConflictToken = token,
            LastProcessed = lastProcessed,
            LastCompletionResult = lastResult,
            LastFailure = lastFailure,
        };
        if (info is not null)
        {
            entry.Info.MergeFrom(info);
        }
        foreach (var nominal in buffered)
        {
            entry.Buffer.Enqueue(nominal);
        }
        return entry;
    }

    private static void WriteMessage(CodedOutputStream output, int field, IMessage? message)
    {
        if (message is null)
        {
            return;
        }
        output.WriteTag(field, WireFormat.WireType.LengthDelimited);
        output.WriteMessage(message);
    }
}

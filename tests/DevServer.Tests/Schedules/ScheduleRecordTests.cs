using AgentOrchestrator.DevServer.Schedules;
using Google.Protobuf.WellKnownTypes;
using Temporalio.Api.Common.V1;
using Temporalio.Api.Schedule.V1;

namespace AgentOrchestrator.DevServer.Tests.Schedules;

/// <summary>A schedule's stored record keeps everything a restarted server needs to resume it.</summary>
public sealed class ScheduleRecordTests
{
    [Fact]
    public void WriteThenRead_KeepsDefinitionCountersCatchupPointAndBuffer()
    {
        var entry = new ScheduleEntry("default", "nightly")
        {
            Schedule = new Schedule
            {
                Spec = new ScheduleSpec { CronString = { "0 3 * * *" } },
                Action = new ScheduleAction { StartWorkflow = new Temporalio.Api.Workflow.V1.NewWorkflowExecutionInfo { WorkflowId = "report" } },
                State = new ScheduleState { Paused = true, Notes = "holiday" },
            },
            Memo = new Memo { Fields = { ["owner"] = new Payload { Data = Google.Protobuf.ByteString.CopyFromUtf8("\"ops\"") } } },
            ConflictToken = 7,
            LastProcessed = new DateTimeOffset(2030, 1, 2, 3, 0, 0, TimeSpan.Zero),
        };
        entry.Info.ActionCount = 12;
        entry.Info.RunningWorkflows.Add(new WorkflowExecution { WorkflowId = "report-1", RunId = "r1" });
        entry.Buffer.Enqueue(new DateTimeOffset(2030, 1, 3, 3, 0, 0, TimeSpan.Zero));

        var read = ScheduleRecord.Read(ScheduleRecord.Write(entry));

        Assert.Equal(("default", "nightly"), (read.Namespace, read.ScheduleId));
        Assert.Equal(entry.Schedule, read.Schedule);
        Assert.Equal(entry.Memo, read.Memo);
        Assert.Null(read.SearchAttributes);
        Assert.Equal(7, read.ConflictToken);
        Assert.Equal(entry.LastProcessed, read.LastProcessed);
        Assert.Equal(entry.Info, read.Info);
        Assert.Equal([new DateTimeOffset(2030, 1, 3, 3, 0, 0, TimeSpan.Zero)], read.Buffer);
        Assert.Equal(Timestamp.FromDateTimeOffset(entry.LastProcessed), Timestamp.FromDateTimeOffset(read.LastProcessed));
    }
}

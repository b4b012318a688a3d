using AgentOrchestrator.Contracts;

namespace AgentOrchestrator.Client.Tests;

public sealed class RunTranscriptTests
{
    [Fact]
    public void Apply_CompactedRangeOverlappingHeldTokens_AppendsOnlyTheRest()
    {
        var transcript = new RunTranscript();
        static RunEvent At(long index, long offset, string text) => RunEvents.Token("r", "writer", 1, index, text) with { Offset = offset };

        transcript.Apply(RunEvents.Step("r", "writer", 1, RunEventTypes.StepStarted, 0));
        Assert.True(transcript.Apply(At(0, 0, "ab")));
        Assert.True(transcript.Apply(At(1, 2, "cd")));
        Assert.False(transcript.Apply(At(1, 2, "cd")));
        Assert.True(transcript.Apply(At(2, 0, "abcde")));

        Assert.Equal("abcde", transcript.Step("writer")!.Text);
    }

    [Fact]
    public void Apply_RetriedStep_KeepsOnlyTheNewAttemptsText()
    {
        var transcript = new RunTranscript();
        transcript.Apply(RunEvents.Run("r", RunEventTypes.RunStarted));
        transcript.Apply(RunEvents.Step("r", "writer", 1, RunEventTypes.StepStarted, 0));
        transcript.Apply(RunEvents.Token("r", "writer", 1, 0, "Half an"));
        transcript.Apply(RunEvents.Step("r", "writer", 2, RunEventTypes.StepRetrying, 0, dataJson: """{"previousAttempt":1}"""));
        transcript.Apply(RunEvents.Step("r", "writer", 2, RunEventTypes.StepStarted, 0));
        transcript.Apply(RunEvents.Token("r", "writer", 2, 0, "A whole"));
        Assert.False(transcript.Apply(RunEvents.Token("r", "writer", 1, 1, " answer?")));
        transcript.Apply(RunEvents.Token("r", "writer", 2, 1, " answer."));
        transcript.Apply(RunEvents.Step("r", "writer", 2, RunEventTypes.StepCompleted, 2, "A whole answer."));
        transcript.Apply(RunEvents.Run("r", RunEventTypes.RunCompleted, "A whole answer."));

        var writer = Assert.Single(transcript.Steps);
        Assert.Equal("A whole answer.", writer.Text);
        Assert.Equal(2, writer.Attempt);
        Assert.Equal(1, writer.SupersededAttempts);
        Assert.True(writer.IsCompleted);
        Assert.Equal(RunTranscriptStatus.Completed, transcript.Status);
        Assert.Equal("A whole answer.", transcript.Result);
        Assert.Equal(RunEventIds.ForRun("r", RunEventTypes.RunCompleted), transcript.Cursor);
    }

    [Fact]
    public void Apply_ToolCallAndResult_PairedByCallId()
    {
        var transcript = new RunTranscript();
        transcript.Apply(RunEvents.Step("r", "tool.weather", 1, RunEventTypes.ToolCall, 0,
            dataJson: """{"callId":"c1","tool":"Weather-GetForecast","arguments":{"city":"Oslo"}}"""));
        transcript.Apply(RunEvents.Step("r", "tool.weather", 1, RunEventTypes.ToolResult, 0,
            dataJson: """{"callId":"c1","tool":"Weather-GetForecast","result":{"tempC":4}}"""));

        var call = Assert.Single(transcript.Step("tool.weather")!.ToolCalls);
        Assert.Equal(("c1", "Weather-GetForecast"), (call.CallId, call.Tool));
        Assert.Equal("Oslo", call.Arguments?.GetProperty("city").GetString());
        Assert.True(call.HasResult);
        Assert.Equal(4, call.Result?.GetProperty("tempC").GetInt32());
        Assert.Null(call.Error);
    }

    [Fact]
    public void Apply_InputRequested_IsListedWithItsSchemaAndTimeout()
    {
        var transcript = new RunTranscript();
        transcript.Apply(RunEvents.Step("r", "approve", 1, RunEventTypes.InputRequested, 0,
            dataJson: """{"requestId":"q1","prompt":"Ship it?","schema":{"type":"boolean"},"timeoutSeconds":60}"""));

        var request = Assert.Single(transcript.InputRequests);
        Assert.Equal(("q1", "Ship it?", 60, "approve"), (request.RequestId, request.Prompt, request.TimeoutSeconds, request.Step));
        Assert.Equal("boolean", request.Schema?.GetProperty("type").GetString());
    }

    [Fact]
    public void Apply_StreamReset_DiscardsEverythingThenRebuildsFromTheReplay()
    {
        var transcript = new RunTranscript();
        transcript.Apply(RunEvents.Run("r", RunEventTypes.RunStarted));
        transcript.Apply(RunEvents.Token("r", "writer", 1, 0, "Hello"));

        Assert.True(transcript.Apply(RunEvents.Run("r", RunEventTypes.StreamReset)));
        Assert.Empty(transcript.Steps);
        Assert.Equal(RunTranscriptStatus.Pending, transcript.Status);

        transcript.Apply(RunEvents.Run("r", RunEventTypes.RunStarted));
        transcript.Apply(RunEvents.Token("r", "writer", 1, 0, "Hello"));
        transcript.Apply(RunEvents.Token("r", "writer", 1, 1, " again"));
        Assert.Equal("Hello again", transcript.Step("writer")!.Text);
        Assert.Equal(1, transcript.Resets);
    }

    [Fact]
    public void Apply_RunFailed_RecordsTheError()
    {
        var transcript = new RunTranscript();
        transcript.Apply(RunEvents.Run("r", RunEventTypes.RunStarted));

        transcript.Apply(RunEvents.Run("r", RunEventTypes.RunFailed, "writer failed after 4 attempts"));

        Assert.Equal(RunTranscriptStatus.Failed, transcript.Status);
        Assert.True(transcript.IsFinished);
        Assert.Equal("writer failed after 4 attempts", transcript.Error);
    }
}

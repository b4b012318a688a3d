using System.Text;
using AgentOrchestrator.Contracts;
using AgentOrchestrator.RunStreaming.Sources;

namespace AgentOrchestrator.RunStreaming.Tests.Sources;

/// <summary>A stream message's body as MassTransit writes it: the message inside an envelope with other properties.</summary>
public sealed class RunEventEnvelopeTests
{
    private const string Message = """
        {"runId":"r1","tenantId":"t1","events":[{"id":"r1/writer/1/token/0","runId":"r1","tenantId":"t1","type":"token","step":"writer",
        "attempt":1,"index":0,"text":"Hel","ts":"2026-12-08T00:00:00+00:00","modelEmittedAtUs":42}],
        "stamps":[{"point":"worker.received","atUs":50},{"point":"publish.started","atUs":60}]}
        """;

    [Fact]
    public void Parse_MessageAmongOtherEnvelopeProperties_ReadsTheMessageWithItsStamps()
    {
        var body = """{"messageId":"m","headers":{"a":[1,{"b":"message"}]},"message":""" + Message + ""","host":{"machineName":"x"}}""";

        var parsed = RunEventEnvelope.Parse(Encoding.UTF8.GetBytes(body));

        Assert.Equal("r1", parsed.RunId);
        var token = Assert.Single(parsed.Events);
        Assert.Equal(("Hel", 42L), (token.Text, token.ModelEmittedAtUs));
        Assert.Equal([TokenPath.WorkerReceived, TokenPath.PublishStarted], parsed.Stamps!.Select(s => s.Point));
        Assert.Null(token.Trace);
    }

    [Theory]
    [InlineData("""{"messageId":"m","headers":{}}""")] // no message
    [InlineData("""[1,2]""")] // not an object
    [InlineData("""{"message":""")] // cut off
    [InlineData("""{"message":{"runId":"r1"}} trailing""")] // more after the envelope
    [InlineData("")]
    public void Parse_NotAnEnvelopeWithAMessage_ThrowsInvalidRunEventMessage(string body) =>
        Assert.Throws<InvalidRunEventMessageException>(() => RunEventEnvelope.Parse(Encoding.UTF8.GetBytes(body)));

    [Fact]
    public void Parse_EventOfAnotherRun_ThrowsInvalidRunEventMessage()
    {
        var body = "{\"message\":" + Message.Replace("\"runId\":\"r1\",\"tenantId\":\"t1\",\"type\"", "\"runId\":\"r2\",\"tenantId\":\"t1\",\"type\"", StringComparison.Ordinal) + "}";

        Assert.Throws<InvalidRunEventMessageException>(() => RunEventEnvelope.Parse(Encoding.UTF8.GetBytes(body)));
    }
}

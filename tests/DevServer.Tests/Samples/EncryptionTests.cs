using AgentOrchestrator.TestSupport;
using Google.Protobuf;
using Temporalio.Activities;
using Temporalio.Api.Common.V1;
using Temporalio.Api.Enums.V1;
using Temporalio.Client;
using Temporalio.Converters;
using Temporalio.Worker;
using Temporalio.Workflows;

namespace AgentOrchestrator.DevServer.Tests.Samples;

/// <summary>
/// A payload codec scrambles every payload on the client and worker side; the server only ever stores and
/// forwards the encoded bytes, and the SDK decodes them again on the way back.
/// </summary>
public sealed class EncryptionTests(DevServerFixture server) : IClassFixture<DevServerFixture>
{
    private const string Encoding = "binary/test-scrambled";

    /// <summary>Stand-in for encryption: the whole serialized payload XOR-ed with a key byte.</summary>
    public sealed class ScramblingCodec : IPayloadCodec
    {
        private const byte Key = 0x5A;

        private static byte[] Scramble(byte[] bytes) => [.. bytes.Select(b => (byte)(b ^ Key))];

        public Task<IReadOnlyCollection<Payload>> EncodeAsync(IReadOnlyCollection<Payload> payloads) =>
            Task.FromResult<IReadOnlyCollection<Payload>>([.. payloads.Select(p => new Payload
            {
                Metadata = { ["encoding"] = ByteString.CopyFromUtf8(Encoding) },
                Data = ByteString.CopyFrom(Scramble(p.ToByteArray())),
            })]);

        public Task<IReadOnlyCollection<Payload>> DecodeAsync(IReadOnlyCollection<Payload> payloads) =>
            Task.FromResult<IReadOnlyCollection<Payload>>([.. payloads.Select(p =>
                p.Metadata.TryGetValue("encoding", out var encoding) && encoding.ToStringUtf8() == Encoding
                    ? Payload.Parser.ParseFrom(Scramble(p.Data.ToByteArray()))
                    : p)]);
    }

    [Workflow]
    public sealed class SecretWorkflow
    {
        private string? _extra;

        [WorkflowRun]
        public async Task<string> RunAsync(string secret)
        {
            var sealedValue = await Workflow.ExecuteActivityAsync(() => Seal(secret), new() { StartToCloseTimeout = TimeSpan.FromSeconds(30) });
            await Workflow.WaitConditionAsync(() => _extra is not null);
            return $"{sealedValue}+{_extra}";
        }

        [WorkflowSignal]
        public Task AddAsync(string extra)
        {
            _extra = extra;
            return Task.CompletedTask;
        }

        [WorkflowQuery]
        public bool Waiting => _extra is null;

        [Activity]
        public static string Seal(string secret) => $"sealed({secret})";
    }

    private static DataConverter Converter => DataConverter.Default with { PayloadCodec = new ScramblingCodec() };

    [Fact]
    public async Task PayloadCodec_AllPayloads_StoredEncodedAndDecodedBySdk()
    {
        var client = await TemporalClient.ConnectAsync(new TemporalClientConnectOptions(server.Target)
        {
            Namespace = server.Namespace,
            DataConverter = Converter,
        });
        var taskQueue = $"tq-{Guid.NewGuid()}";
        await using var worker = WorkerScope.Start(client, new TemporalWorkerOptions(taskQueue)
            .AddWorkflow<SecretWorkflow>()
            .AddActivity(SecretWorkflow.Seal));

        var handle = await client.StartWorkflowAsync((SecretWorkflow wf) => wf.RunAsync("swordfish"), new WorkflowOptions($"wf-{Guid.NewGuid()}", taskQueue));
        await Eventually.TrueAsync(async () => await handle.QueryAsync(wf => wf.Waiting), because: "query results are decoded too");
        await handle.SignalAsync(wf => wf.AddAsync("marlin"));
        Assert.Equal("sealed(swordfish)+marlin", await handle.GetResultAsync());

        var history = await handle.FetchHistoryAsync();
        var events = history.Events.ToList();
        var stored = new[]
        {
            events.Single(e => e.EventType == EventType.WorkflowExecutionStarted).WorkflowExecutionStartedEventAttributes.Input,
            events.Single(e => e.EventType == EventType.ActivityTaskScheduled).ActivityTaskScheduledEventAttributes.Input,
            events.Single(e => e.EventType == EventType.ActivityTaskCompleted).ActivityTaskCompletedEventAttributes.Result,
            events.Single(e => e.EventType == EventType.WorkflowExecutionSignaled).WorkflowExecutionSignaledEventAttributes.Input,
            events.Single(e => e.EventType == EventType.WorkflowExecutionCompleted).WorkflowExecutionCompletedEventAttributes.Result,
        }.SelectMany(p => p.Payloads_).ToList();
        Assert.Equal(5, stored.Count);
        Assert.All(stored, p =>
        {
            Assert.Equal(Encoding, p.Metadata["encoding"].ToStringUtf8());
            var raw = p.Data.ToStringUtf8();
            Assert.DoesNotContain("swordfish", raw, StringComparison.Ordinal);
            Assert.DoesNotContain("marlin", raw, StringComparison.Ordinal);
        });

        // The stored bytes are exactly the codec's output: decoding them by hand yields the result.
        var decoded = await new ScramblingCodec().DecodeAsync([stored[^1]]);
        Assert.Equal("sealed(swordfish)+marlin", DataConverter.Default.PayloadConverter.ToValue<string>(decoded.Single()));

        // The stock helper replays with the default converter, so replay here with the codec.
        var replay = await new WorkflowReplayer(new WorkflowReplayerOptions { DataConverter = Converter }.AddWorkflow<SecretWorkflow>())
            .ReplayWorkflowAsync(history, throwOnReplayFailure: false);
        Assert.Null(replay.ReplayFailure);
    }
}

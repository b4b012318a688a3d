using System.Buffers;
using System.IO.Pipelines;
using System.Text.Json;
using AgentOrchestrator.ModelSimulator.Protocol;

namespace AgentOrchestrator.ModelSimulator.Endpoints;

/// <summary>
/// Writes <c>data: {json}\n\n</c> events straight into the response pipe and flushes each one,
/// so every token leaves the server as soon as it is "generated".
/// </summary>
internal sealed class ServerSentEventWriter(PipeWriter pipe) : IDisposable
{
    private readonly Utf8JsonWriter _json = new(pipe, JsonWire.WriterOptions);

    private static ReadOnlySpan<byte> DataPrefix => "data: "u8;

    private static ReadOnlySpan<byte> EventEnd => "\n\n"u8;

    private static ReadOnlySpan<byte> DoneEvent => "data: [DONE]\n\n"u8;

    /// <summary>Stamps <paramref name="chunk"/> with the emit time, writes and flushes it.</summary>
    public ValueTask WriteChunkAsync(ChatCompletionChunk chunk, CancellationToken cancellationToken)
    {
        chunk.XEmittedAtUs = EmitClock.UnixMicrosecondsNow();
        pipe.Write(DataPrefix);
        JsonSerializer.Serialize(_json, chunk, OpenAIJsonContext.Default.ChatCompletionChunk);
        _json.Flush();
        _json.Reset();
        pipe.Write(EventEnd);
        return FlushAsync(cancellationToken);
    }

    public ValueTask WriteDoneAsync(CancellationToken cancellationToken)
    {
        pipe.Write(DoneEvent);
        return FlushAsync(cancellationToken);
    }

    public void Dispose() => _json.Dispose();

    private async ValueTask FlushAsync(CancellationToken cancellationToken)
    {
        FlushResult result = await pipe.FlushAsync(cancellationToken);
        if (result.IsCompleted || result.IsCanceled)
        {
            // Nobody reads any more: the client has gone.
            throw new OperationCanceledException("The client stopped reading the stream.");
        }
    }
}

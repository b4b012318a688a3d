using System.Text;
using System.Text.Json;

namespace AgentOrchestrator.ModelSimulator.Tests.Support;

/// <summary>Everything a client read from a server-sent-event stream, including how the stream ended.</summary>
internal sealed class SseTranscript
{
    private const string DataPrefix = "data: ";

    /// <summary>Every <c>data:</c> payload in order, <c>[DONE]</c> included.</summary>
    public List<string> Events { get; } = [];

    /// <summary>The JSON payloads (all events except <c>[DONE]</c>).</summary>
    public List<JsonElement> Chunks { get; } = [];

    /// <summary>The error that ended reading, when the server aborted the connection.</summary>
    public Exception? ReadError { get; private set; }

    public bool EndsWithDone => Events.Count > 0 && Events[^1] == "[DONE]";

    public int DoneCount => Events.FindAll(e => e == "[DONE]").Count;

    /// <summary>Chunks that carry text: a non-empty <c>delta.content</c>.</summary>
    public List<JsonElement> ContentChunks => Chunks.FindAll(c => ContentOf(c).Length > 0);

    public string Text
    {
        get
        {
            var text = new StringBuilder();
            foreach (JsonElement chunk in Chunks)
            {
                text.Append(ContentOf(chunk));
            }

            return text.ToString();
        }
    }

    public static async Task<SseTranscript> ReadAsync(
        HttpResponseMessage response, CancellationToken cancellationToken, Func<SseTranscript, bool>? stopWhen = null)
    {
        var transcript = new SseTranscript();
        try
        {
            using Stream stream = await response.Content.ReadAsStreamAsync(cancellationToken);
            using var reader = new StreamReader(stream);
            while (await reader.ReadLineAsync(cancellationToken) is string line)
            {
                if (!line.StartsWith(DataPrefix, StringComparison.Ordinal))
                {
                    continue;
                }

                string data = line[DataPrefix.Length..];
                transcript.Events.Add(data);
                if (data != "[DONE]")
                {
                    using var document = JsonDocument.Parse(data);
                    transcript.Chunks.Add(document.RootElement.Clone());
                }

                if (stopWhen?.Invoke(transcript) == true)
                {
                    break;
                }
            }
        }
        catch (Exception ex) when (ex is IOException or HttpRequestException)
        {
            transcript.ReadError = ex;
        }

        return transcript;
    }

    public static string ContentOf(JsonElement chunk)
    {
        JsonElement choices = chunk.GetProperty("choices");
        if (choices.GetArrayLength() == 0
            || !choices[0].GetProperty("delta").TryGetProperty("content", out JsonElement content)
            || content.ValueKind != JsonValueKind.String)
        {
            return string.Empty;
        }

        return content.GetString()!;
    }
}

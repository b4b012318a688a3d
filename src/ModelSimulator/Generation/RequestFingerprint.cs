using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using AgentOrchestrator.ModelSimulator.Protocol;

namespace AgentOrchestrator.ModelSimulator.Generation;

/// <summary>
/// A stable hash of what determines the answer: base model name, <c>seed</c> and the messages.
/// Streaming flags, fault specs and sampling parameters are left out on purpose, so the same conversation
/// gets the same text whether it is streamed, slowed down or cut.
/// </summary>
internal sealed class RequestFingerprint
{
    private const char FieldSeparator = '\u001f';
    private const char RecordSeparator = '\u001e';

    private RequestFingerprint(byte[] hash)
    {
        Seed = BinaryPrimitives.ReadUInt64LittleEndian(hash);
        Hex = Convert.ToHexStringLower(hash);
    }

    /// <summary>Seed for <see cref="DeterministicRandom"/>.</summary>
    public ulong Seed { get; }

    /// <summary>The SHA-256 in lower-case hex, used for response and tool-call ids.</summary>
    public string Hex { get; }

    public static RequestFingerprint Compute(string baseModel, ChatCompletionRequest request)
    {
        var canonical = new StringBuilder();
        canonical.Append(baseModel).Append(RecordSeparator);
        canonical.Append(request.Seed?.ToString() ?? string.Empty).Append(RecordSeparator);
        foreach (ChatMessage? message in request.Messages ?? [])
        {
            if (message is null)
            {
                continue;
            }

            canonical.Append(message.Role).Append(FieldSeparator)
                .Append(message.Name).Append(FieldSeparator)
                .Append(message.ToolCallId).Append(FieldSeparator)
                .Append(MessageText.Flatten(message.Content));
            foreach (ToolCall? call in message.ToolCalls ?? [])
            {
                canonical.Append(FieldSeparator).Append(call?.Id)
                    .Append(FieldSeparator).Append(call?.Function?.Name)
                    .Append(FieldSeparator).Append(call?.Function?.Arguments);
            }

            canonical.Append(RecordSeparator);
        }

        return new RequestFingerprint(SHA256.HashData(Encoding.UTF8.GetBytes(canonical.ToString())));
    }
}
